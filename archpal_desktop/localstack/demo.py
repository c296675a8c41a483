"""``--demo``: the embedded local backend with a demo account, and nothing else special.

On 127.0.0.1 inside this process: moto's server (S3, Cognito user pools, Cognito identity) and
our ConverseStream endpoint answering as the clearly labelled demo coach, both requiring this run's
secret on every request (core.localauth; moto's management API is off). A user pool that signs
in by e-mail, a public app client (SRP + refresh token), an identity pool, a demo account with
a permanent password, a bucket, and a few conversations in the web app's exact layout (one of
them an older reply with its emotion inline), the coach relay, and the site's change feed (the
bucket's S3 events counted per student in DynamoDB, through a queue: localstack/change_feed.py,
``sync_changes_table``). The app is then pointed at it only through the
``AWS_ENDPOINT_URL_*`` variables and ordinary settings, so every code path is the real one.

A demo never touches a real user's data: with no ``--data-dir`` it uses a fresh temporary
folder (deleted on exit) and it refuses the real data folder.
"""
from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3

from archpal_desktop.core import config as cfg
from archpal_desktop.core import layout, localauth, paths
from archpal_desktop.core.errors import ConfigError
from archpal_desktop.localstack.bedrock import LocalBedrock
from archpal_desktop.localstack.change_feed import LocalChangeFeed
from archpal_desktop.localstack.hosted_login import HostedLogin, browser_client_config
from archpal_desktop.localstack.relay_server import local_demo_relay, relay_env
from archpal_desktop.localstack.server import (MotoServer, apply_environ, local_aws_env,
                                               restore_environ)

log = logging.getLogger(__name__)

REGION = "us-east-1"
DEMO_EMAIL = "demo.student@example.edu"
#: the demo account's password, shown to the user; it only opens the local, in-process pool
DEMO_PASSWORD = "ArchPal-Demo-1!"
DEMO_MODEL = "archpal-demo-coach"
PROFILE = {"first_name": "Demo", "last_name": "Student", "college_year": "First Year",
           "major": "Architecture", "course_number": "ENGL 1101"}


@dataclass
class Demo:
    sub: str
    email: str
    password: str
    bucket: str
    pool_id: str
    client_id: str
    identity_pool_id: str
    data_dir: Path
    env: dict[str, str]
    moto: MotoServer
    bedrock: LocalBedrock
    hosted: HostedLogin | None = None  # the stand-in for the pool's managed sign-in page
    relay: Any = None                # LocalRelay: the demo takes the production path, the relay
    changes: LocalChangeFeed | None = None   # the site's change feed (S3 events -> counters)
    temporary: bool = False
    _saved_env: dict[str, str | None] = field(default_factory=dict, repr=False)
    _closed: bool = False

    def settings_overrides(self) -> dict[str, Any]:
        return {
            cfg.S3_BUCKET_NAME: self.bucket,
            cfg.S3_REGION: REGION,
            cfg.AWS_REGION: REGION,
            cfg.COGNITO_USER_POOL_ID: self.pool_id,
            cfg.COGNITO_CLIENT_ID: self.client_id,
            cfg.COGNITO_REGION: REGION,
            cfg.COGNITO_IDENTITY_POOL_ID: self.identity_pool_id,
            cfg.ANTHROPIC_MODEL: DEMO_MODEL,
            cfg.PROVIDER: "bedrock",
            cfg.COACH_RELAY_URL: self.relay.url if self.relay is not None else "",
            cfg.SYNC_CHANGES_TABLE: self.changes.table if self.changes is not None else "",
            cfg.DATA_DIR: str(self.data_dir),
            # both ways in: the password form (filled for the demo) and the browser sign-in
            **({cfg.COGNITO_DOMAIN: self.hosted.url, cfg.SIGN_IN: "both"} if self.hosted else {}),
        }

    def banner(self) -> str:
        where = (f"{self.data_dir} (temporary, deleted on exit)" if self.temporary
                 else str(self.data_dir))
        return ("ArchPal demo: a local backend is running on this computer (no AWS, no real model; "
                "replies come from a labelled demo coach).\n"
                f"  Sign in with: {self.email}  password: {self.password}\n"
                + (f"  (on the local stand-in for the university sign-in page at {self.hosted.url})\n"
                   if self.hosted else "") +
                f"  Data folder: {where}")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        _forget_demo_session(self.pool_id, self.sub)
        if self.hosted is not None:
            self.hosted.stop()
        if self.relay is not None:
            self.relay.stop()
        if self.changes is not None:
            self.changes.stop()
        self.bedrock.stop()
        self.moto.stop()
        restore_environ(self._saved_env)
        if self.temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def _forget_demo_session(pool_id: str, sub: str) -> None:
    """Leave nothing of the demo in the OS keyring (its pool vanishes with the process)."""
    try:
        from archpal_desktop.core.auth.keystore import KeyStore

        KeyStore().delete(KeyStore.account(pool_id, sub))
    except Exception:  # no keyring, or nothing stored: nothing to clean
        log.debug("demo keyring cleanup skipped", exc_info=True)


def _demo_data_dir(data_dir: Path | None, real_dirs: list[Path] | None = None) -> tuple[Path, bool]:
    if data_dir is None:
        return Path(tempfile.mkdtemp(prefix="archpal-demo-")), True
    chosen = Path(data_dir).expanduser().resolve()
    for real in [paths.user_data_dir(), *(real_dirs or [])]:
        real = Path(real).expanduser().resolve()
        if chosen == real or real in chosen.parents or chosen in real.parents:
            raise ConfigError(f"The demo will not use your real data folder ({real}).",
                              "Pass another --data-dir, or none for a temporary one.")
    return chosen, False


def start_demo(data_dir: Path | None = None, *, announce: bool = True,
               real_dirs: list[Path] | None = None) -> Demo:
    """``real_dirs``: data folders in real use here (a site-managed one), refused as well."""
    folder, temporary = _demo_data_dir(data_dir, real_dirs)
    # one secret for this run: other users of the computer can reach 127.0.0.1 too
    secret = localauth.new_secret()
    moto = MotoServer(secret=secret).start()
    bedrock = LocalBedrock(secret=secret).start()
    env = local_aws_env({**moto.endpoint_env(), **bedrock.endpoint_env(),
                         **relay_env(moto.url)}, REGION)
    saved = apply_environ(env)
    try:
        demo = _provision(moto, bedrock, env, folder, temporary)
    except BaseException:
        restore_environ(saved)
        bedrock.stop()
        moto.stop()
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    demo._saved_env = saved
    if announce:
        print(demo.banner(), file=sys.stderr)
    return demo


def _provision(moto: MotoServer, bedrock: LocalBedrock, env: dict[str, str], folder: Path,
               temporary: bool) -> Demo:
    idp = boto3.client("cognito-idp", region_name=REGION)
    pool_id = idp.create_user_pool(PoolName="archpal-demo", UsernameAttributes=["email"],
                                   AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    # the app client as the admin kit sets it up: SRP for the password form, plus the browser
    # sign-in's code grant with the loopback callback and sign-out URLs
    ports = _sign_in_ports()
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="archpal-desktop-demo", GenerateSecret=False,
        **browser_client_config([f"http://127.0.0.1:{p}/archpal/callback" for p in ports],
                                [f"http://127.0.0.1:{p}/archpal/signed-out" for p in ports]),
    )["UserPoolClient"]["ClientId"]
    user = idp.admin_create_user(UserPoolId=pool_id, Username=DEMO_EMAIL, MessageAction="SUPPRESS",
                                 UserAttributes=[{"Name": "email", "Value": DEMO_EMAIL},
                                                 {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username=DEMO_EMAIL, Password=DEMO_PASSWORD,
                                Permanent=True)
    sub = {a["Name"]: a["Value"] for a in user["User"]["Attributes"]}["sub"]
    identity_pool_id = boto3.client("cognito-identity", region_name=REGION).create_identity_pool(
        IdentityPoolName="archpal_demo", AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool_id}",
                                   "ClientId": client_id}])["IdentityPoolId"]
    bucket = f"archpal-demo-{uuid.uuid4().hex[:10]}"
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=bucket)
    for key, body in seed_objects(sub).items():
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    hosted = HostedLogin(REGION).start()
    relay = local_demo_relay(bucket=bucket, pool_id=pool_id, client_id=client_id, model=DEMO_MODEL,
                             region=REGION)
    try:
        # the site's change feed: what the web app (or another laptop) writes moves the
        # student's counter, which the app polls instead of the bucket
        changes = LocalChangeFeed(moto.url, bucket, region=REGION).start()
    except BaseException:
        relay.stop()
        hosted.stop()
        raise
    return Demo(sub=sub, email=DEMO_EMAIL, password=DEMO_PASSWORD, bucket=bucket, pool_id=pool_id,
                client_id=client_id, identity_pool_id=identity_pool_id, data_dir=folder, env=env,
                moto=moto, bedrock=bedrock, hosted=hosted, relay=relay, changes=changes,
                temporary=temporary)


def _sign_in_ports() -> list[int]:
    """The loopback ports the app may listen on: the defaults plus ARCHPAL_SIGN_IN_PORTS (read
    here because the pool is made before the settings are loaded)."""
    import os

    from archpal_desktop.core.auth.loopback import DEFAULT_PORTS

    extra = [int(p) for p in os.environ.get("ARCHPAL_SIGN_IN_PORTS", "").split(",")
             if p.strip().isdigit()]
    return list(dict.fromkeys([*extra, *DEFAULT_PORTS]))


# -- seed data, written exactly as the web app writes it ----------------------------------------
_SEED = [
    ("Thesis for my urban parks essay", [
        ("user", "I need a thesis for my essay on urban parks. Where do I even begin?", None),
        ("assistant", "Let's build it from your own view. What do you think cities should do about "
                      "parks, and who benefits most if they do?", "hello"),
        ("user", "Every neighborhood should have a park within a ten-minute walk.", None),
        ("assistant", "That's a clear, arguable claim. Which evidence could show why ten minutes "
                      "matters: health, equity, or climate?", "point"),
    ]),
    (None, [   # an older conversation: the emotion is inline in the text (legacy replies)
        ("user", "Can you look at how I structured my reflection paper?", None),
        ("assistant", "Happy to! Your paragraphs follow the order of events; try ordering them by "
                      "what you learned instead.\n{\"emotion\": \"success\"}", "inline"),
    ]),
    ("MLA citation for a website", [
        ("user", "How do I cite a website in MLA?", None),
    ]),
]


def seed_objects(sub: str, now: datetime | None = None) -> dict[str, bytes]:
    """info.json, conversations.json and the conversation files for ``sub`` (web app bytes)."""
    now = now or datetime.now(timezone.utc)
    start = now - timedelta(days=3)
    objects: dict[str, bytes] = {}
    info = dict(PROFILE, unique_identifier=str(uuid.uuid4()), email=DEMO_EMAIL,
                created_at=layout.format_ts(start), updated_at=layout.format_ts(start),
                cognito_user_id=sub)
    objects[layout.info_key(sub)] = layout.dumps(info)
    index = []
    for n, (title, messages) in enumerate(_SEED):
        created = start + timedelta(days=n, minutes=5)
        cid = str(uuid.uuid4())
        msgs = []
        for i, (role, text, emotion) in enumerate(messages):
            ts = layout.format_ts(created + timedelta(seconds=30 * (i + 1)))
            msg = layout.new_message(role, text, message_id=str(uuid.uuid4()), timestamp=ts,
                                     course_number=PROFILE["course_number"], message_index=i,
                                     model="anthropic.claude-sonnet-4" if role == "assistant" else None,
                                     emotion=None if emotion == "inline" else emotion)
            if emotion == "inline":
                del msg["metadata"]["emotion"]
            msgs.append(msg)
        last = msgs[-1]["timestamp"]
        doc = layout.conversation_doc(cid, sub, layout.format_ts(created), msgs, last)
        objects[layout.conversation_key(sub, cid)] = layout.dumps(doc)
        index.append(layout.index_entry(cid, layout.format_ts(created), last, len(msgs),
                                        title or layout.default_title(created)))
    objects[layout.index_key(sub)] = layout.dumps(index)
    return objects
