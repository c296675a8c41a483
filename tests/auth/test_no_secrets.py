"""With every logger at DEBUG during a full sign-in, identity-pool credentials and a sync, no
password, token or secret key reaches the log, the SQLite cache, the config files or the data
folder."""
from __future__ import annotations

import logging
from pathlib import Path

import boto3

from archpal_desktop.core import config as cfg
from archpal_desktop.core.auth import AuthSession
from archpal_desktop.core.logs import NOISY, setup_logging
from tests.auth.conftest import PASSWORD


def test_debug_everything_leaks_nothing(pool, bucket, local_aws, monkeypatch, caplog, tmp_path, request):
    from archpal_desktop.core.cache import Store
    from archpal_desktop.core.sync import sync_once

    request_cleanup = request.addfinalizer

    email, password = "lin@uga.edu", "Sup3r-Secret-Pa55!"
    sub = pool.add_user(email, password)
    ip = boto3.client("cognito-identity", region_name="us-east-1").create_identity_pool(
        IdentityPoolName="archpal", AllowUnauthenticatedIdentities=False)["IdentityPoolId"]
    # the settings file is written by the app (user layer) as a user would
    user_file = Path(cfg.load_settings().user_file)
    settings = cfg.load_settings(cli_overrides={cfg.COGNITO_USER_POOL_ID: pool.pool_id,
                                                cfg.COGNITO_CLIENT_ID: pool.client_id,
                                                cfg.COGNITO_IDENTITY_POOL_ID: ip,
                                                cfg.S3_BUCKET_NAME: bucket})
    settings.set_user(cfg.THEME, "dark")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")  # a student's laptop: no AWS keys at all
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    # every logger at DEBUG (a library's sub-loggers inherit from its top one), then the app's
    # own logging setup runs, as at start-up: it pins botocore & co., whose DEBUG output prints
    # request bodies (passwords, tokens) and signing material
    saved = {n: logging.getLogger(n).level for n in [""] + list(logging.root.manager.loggerDict)}
    monkeypatch.setattr("archpal_desktop.core.logs._configured", False)
    app_logger = logging.getLogger("archpal_desktop")
    handlers_before = list(app_logger.handlers)

    def restore_logging():
        for n, v in saved.items():
            logging.getLogger(n).setLevel(v)
        for h in app_logger.handlers[:]:
            if h not in handlers_before:
                app_logger.removeHandler(h)
                h.close()

    request_cleanup(restore_logging)
    for name in saved:
        top = name.split(".")[0]
        inherit = "." in name and top in NOISY
        logging.getLogger(name).setLevel(logging.NOTSET if inherit else logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    setup_logging(verbose=True)

    s = AuthSession(settings)
    assert s.sign_in(email, password) is s
    access = s.access()
    frozen = access.session.get_credentials().get_frozen_credentials()
    store = Store.open_for_user(settings.data_dir(), access.sub)
    try:
        store.save_profile({"first_name": "Lin", "last_name": "Wu", "college_year": "First Year",
                            "major": "History", "course_number": "HIST 1111"}, email=email)
        conv = store.create_conversation("Essay plan")
        store.add_message(conv.conversation_id, "user", "Help me plan my essay")
        result = sync_once(store, access, settings)
        assert result.ok, result.errors
    finally:
        store.close()
    s.renew_margin = 10_000
    s.ensure_fresh()  # a renewal too
    assert boto3.client("s3", region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="y").head_object(Bucket=bucket, Key=f"users/{sub}/info.json")

    secrets = {"password": password, "refresh token": s._refresh_token, "id token": s._id_token,
               "access token": s._access_token, "secret key": frozen.secret_key,
               "session token": frozen.token}
    assert all(secrets.values())
    log_text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "signed in" in log_text  # the log did capture our DEBUG/INFO records
    places = {"captured log": log_text.encode()}
    home = Path(settings.data_dir()).parents[1]  # the test's whole HOME (config, data, logs)
    for f in list(home.rglob("*")) + list(tmp_path.rglob("*")):
        if f.is_file():
            places[str(f)] = f.read_bytes()
    assert any(name.endswith("archpal.sqlite3") for name in places)
    assert any(name.endswith("config.toml") for name in places)
    assert any(name.endswith(".log") for name in places)
    for where, data in places.items():
        for what, value in secrets.items():
            assert value.encode() not in data, f"{what} found in {where}"
