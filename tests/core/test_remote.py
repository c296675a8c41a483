"""Remote's GETs: signed here with botocore's SigV4 signer and sent on the client's own HTTP
session, against moto's server over HTTP, with the fault proxy in between for the failures S3
sends (throttling, 5xx, dropped connections), and moto's own signature check for the signing.
What a caller sees must be what botocore's get_object would have given."""
from __future__ import annotations

import json

import boto3
import pytest
import requests

from archpal_desktop.core import config as cfg, layout
from archpal_desktop.core.aws import s3_client, static_access
from archpal_desktop.core.errors import (BucketMissingError, InvalidCredentialsError,
                                         NotFoundError, OfflineError, ThrottledError)
from archpal_desktop.core.sync.remote import Remote
from archpal_desktop.localstack.proxy import FaultProxy
from tests.support.s3fixtures import ADA


def _remote(bucket, *, sleeps=None, on_sleep=None, overrides=None, **client_kwargs):
    settings = cfg.load_settings(cli_overrides={cfg.S3_BUCKET_NAME: bucket, **(overrides or {})},
                                 env={})
    access = static_access(settings, ADA)
    client = s3_client(access, settings, **client_kwargs)

    def sleep(seconds):
        if sleeps is not None:
            sleeps.append(seconds)
        if on_sleep is not None:
            on_sleep()

    return Remote(client, bucket, ADA, credentials=access.session.get_credentials(), sleep=sleep)


@pytest.fixture
def proxied(moto_server, monkeypatch):
    proxy = FaultProxy(moto_server.url, seed=3, timeout_sleep=0.3).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
    yield proxy
    proxy.stop()


def test_get_returns_the_stored_bytes_and_etag_with_one_request(s3, fixture_bucket):
    bucket, bodies = fixture_bucket
    remote = _remote(bucket)
    for key in [k for k in bodies if k.startswith(f"users/{ADA}/")]:
        body, etag = remote.get(key)
        assert body == bodies[key]
        assert etag == s3.head_object(Bucket=bucket, Key=key)["ETag"]
    assert remote.counts()["get"] == len([k for k in bodies if k.startswith(f"users/{ADA}/")])


def _spy_on_sends(remote, monkeypatch) -> list:
    sent, real_send = [], remote._http.send

    def spy(request):
        sent.append(request)
        return real_send(request)

    monkeypatch.setattr(remote._http, "send", spy)
    return sent


def test_gets_are_signed_with_sigv4_for_the_clients_region(s3, bucket, monkeypatch):
    key = layout.info_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    # botocore would presign us-east-1 in SigV2 unless told otherwise: the client is told
    for region in ("us-east-1", "eu-central-1"):
        remote = _remote(bucket, overrides={cfg.S3_REGION: region})
        sent = _spy_on_sends(remote, monkeypatch)
        assert remote.get(key)[0] == b"{}"
        assert len(sent) == 1 and sent[0].url.endswith("/" + key) and "?" not in sent[0].url
        auth = sent[0].headers["Authorization"]
        assert auth.startswith("AWS4-HMAC-SHA256 Credential=testing/")
        assert f"/{region}/s3/aws4_request" in auth


def test_a_verifying_server_accepts_our_signature_and_refuses_a_wrong_secret(s3, bucket, moto_server):
    # moto checks SigV4 signatures once its auth is switched on (with real IAM keys and policies);
    # it is switched off again for the other tests whatever happens here
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=moto_server.url)
    iam.create_user(UserName="archpal-student")
    iam.put_user_policy(UserName="archpal-student", PolicyName="read", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    keys = iam.create_access_key(UserName="archpal-student")["AccessKey"]
    key = layout.info_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"first_name": "Ada"}')
    good = _remote(bucket, overrides={cfg.AWS_ACCESS_KEY_ID: keys["AccessKeyId"],
                                      cfg.AWS_SECRET_ACCESS_KEY: keys["SecretAccessKey"]})
    bad = _remote(bucket, overrides={cfg.AWS_ACCESS_KEY_ID: keys["AccessKeyId"],
                                     cfg.AWS_SECRET_ACCESS_KEY: "not-" + keys["SecretAccessKey"]})
    requests.post(f"{moto_server.url}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
    try:
        assert good.get(key)[0] == b'{"first_name": "Ada"}'
        with pytest.raises(InvalidCredentialsError):
            bad.get(key)
    finally:
        requests.post(f"{moto_server.url}/moto-api/reset-auth", data=b"inf", timeout=10)
    assert good._object_target() is not None and bad._object_target() is not None  # signed here


def test_a_session_token_is_signed_into_the_request(s3, bucket, monkeypatch):
    key = layout.info_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    remote = _remote(bucket, overrides={cfg.AWS_ACCESS_KEY_ID: "ASIAEXAMPLE", cfg.AWS_SECRET_ACCESS_KEY: "s",
                                        cfg.AWS_SESSION_TOKEN: "token-from-the-identity-pool"})
    sent = _spy_on_sends(remote, monkeypatch)
    assert remote.get(key)[0] == b"{}"
    assert sent[0].headers["X-Amz-Security-Token"] == "token-from-the-identity-pool"
    assert "x-amz-security-token" in sent[0].headers["Authorization"]


def test_a_missing_key_is_not_found_at_once(s3, bucket):
    remote = _remote(bucket, sleeps=(sleeps := []))
    key = layout.conversation_key(ADA, "5b0c8f4e-2d1a-4c3b-9e8f-7a6b5c4d3e2f")
    with pytest.raises(NotFoundError) as info:
        remote.get(key)
    assert info.value.message == f"{key} is no longer in the bucket."
    assert remote.counts()["get"] == 1 and sleeps == []


def test_a_missing_bucket_says_so_and_is_not_retried(local_aws):
    remote = _remote("archpal-no-such-bucket-here", sleeps=(sleeps := []))
    with pytest.raises(BucketMissingError):
        remote.get(layout.index_key(ADA))
    assert remote.counts()["get"] == 1 and sleeps == []


def test_throttling_is_retried_with_backoff_then_succeeds(s3, bucket, proxied):
    key = layout.info_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"first_name": "Ada"}')
    proxied.set_faults(throttle=1.0)
    # the first backoff is where S3 recovers
    remote = _remote(bucket, sleeps=(sleeps := []), on_sleep=lambda: proxied.set_faults())
    assert remote.get(key)[0] == b'{"first_name": "Ada"}'
    assert remote.counts()["get"] == 2 and proxied.injected["throttle"] == 1
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 2.0


def test_throttling_that_never_ends_gives_up_after_the_attempts(s3, bucket, proxied):
    key = layout.info_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    proxied.set_faults(throttle=1.0)
    # botocore's max_attempts counts retries: 2 of them, 3 attempts, as its own calls make
    remote = _remote(bucket, sleeps=(sleeps := []), max_attempts=2)
    with pytest.raises(ThrottledError):
        remote.get(key)
    assert remote.counts()["get"] == 3 and len(sleeps) == 2
    assert proxied.injected["throttle"] == 3


def test_a_called_off_remote_stops_retrying_and_retries_again_once_resumed(s3, bucket, proxied):
    key = layout.info_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    proxied.set_faults(throttle=1.0)
    remote = _remote(bucket, sleeps=(sleeps := []), on_sleep=lambda: proxied.set_faults())
    remote.call_off()  # the sync this GET belongs to has failed
    with pytest.raises(ThrottledError):
        remote.get(key)
    assert remote.counts()["get"] == 1 and sleeps == []
    remote.resume()  # the next sync
    assert remote.get(key)[0] == b"{}"
    assert remote.counts()["get"] == 3 and len(sleeps) == 1


def test_server_errors_and_dropped_connections_are_retried(s3, bucket, proxied):
    key = layout.info_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"major": "English"}')
    for fault in ("error500", "drop"):
        proxied.set_faults(**{fault: 1.0})
        remote = _remote(bucket, on_sleep=lambda: proxied.set_faults())
        assert remote.get(key)[0] == b'{"major": "English"}'
        assert remote.counts()["get"] == 2 and proxied.injected[fault] == 1


def test_offline_after_every_attempt_is_reported_as_offline(s3, bucket, proxied):
    key = layout.info_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    proxied.offline = True
    remote = _remote(bucket, max_attempts=1)
    with pytest.raises(OfflineError):
        remote.get(key)
    assert remote.counts()["get"] == 2
    proxied.offline = False
    assert remote.get(key)[0] == b"{}"  # and the same Remote works once the network is back


def test_an_oversized_body_is_cut_at_the_limit_and_the_next_get_still_works(s3, bucket):
    big, small = layout.conversation_key(ADA, "5b0c8f4e-2d1a-4c3b-9e8f-7a6b5c4d3e2f"), layout.info_key(ADA)
    s3.put_object(Bucket=bucket, Key=big, Body=b"x" * (layout.MAX_OBJECT_BYTES + 4096))
    s3.put_object(Bucket=bucket, Key=small, Body=b'{"ok": true}')
    remote = _remote(bucket, pool=1)  # one connection: a half-read body must not poison it
    assert len(remote.get(big)[0]) == layout.MAX_OBJECT_BYTES + 1
    assert remote.get(small)[0] == b'{"ok": true}'


def test_without_credentials_handed_over_the_client_call_gives_the_same_answers(s3, fixture_bucket):
    bucket, bodies = fixture_bucket
    settings = cfg.load_settings(cli_overrides={cfg.S3_BUCKET_NAME: bucket}, env={})
    remote = Remote(s3_client(static_access(settings, ADA), settings), bucket, ADA)
    assert remote._object_target() is None
    key = layout.index_key(ADA)
    assert remote.get(key) == (bodies[key], s3.head_object(Bucket=bucket, Key=key)["ETag"])
    with pytest.raises(NotFoundError):
        remote.get(layout.conversation_key(ADA, "5b0c8f4e-2d1a-4c3b-9e8f-7a6b5c4d3e2f"))
    assert remote.counts()["get"] == 2


def test_keys_outside_the_users_prefix_are_refused_before_any_request(s3, bucket):
    remote = _remote(bucket)
    for key in (f"users/{ADA}/../other/info.json", "users/someone-else/info.json"):
        with pytest.raises(ValueError):
            remote.get(key)
    assert remote.counts()["get"] == 0


def test_the_benchmarks_proxy_process_adds_its_delay_and_forwards_byte_for_byte(s3, bucket, moto_server,
                                                                                 monkeypatch):
    # as bench/ runs it: a process of its own (on uvloop when installed), until stdin closes
    import subprocess
    import sys
    import time

    key = layout.info_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"major": "History"}')
    proc = subprocess.Popen([sys.executable, "-m", "archpal_desktop.localstack.proxy", "--upstream",
                             moto_server.url, "--delay", "0.05"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proc.stdout.readline().strip())
        remote = _remote(bucket)
        remote.get(key)  # connect once
        t0 = time.perf_counter()
        body, etag = remote.get(key)
        assert time.perf_counter() - t0 >= 0.05
        assert (body, etag) == (b'{"major": "History"}', s3.head_object(Bucket=bucket, Key=key)["ETag"])
    finally:
        proc.stdin.close()
        assert proc.wait(10) == 0


@pytest.mark.parametrize("fault", ["reset_body", "cut_body"])
def test_a_connection_broken_while_the_body_is_read_is_retried(s3, bucket, proxied, fault):
    """Issue 18 point 19: a reset (or a clean close) halfway through a GET's body is a dropped
    connection like the others: retried, and when every attempt fails, the offline message."""
    key = layout.info_key(ADA)
    body = json.dumps({"major": "English", "pad": "x" * 4000}).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    proxied.set_faults(**{fault: 1.0})
    remote = _remote(bucket, on_sleep=lambda: proxied.set_faults())
    assert remote.get(key)[0] == body
    assert remote.counts()["get"] == 2 and proxied.injected[fault] == 1

    proxied.set_faults(**{fault: 1.0})
    remote = _remote(bucket, max_attempts=2)
    with pytest.raises(OfflineError) as caught:
        remote.get(key)
    assert "offline" in str(caught.value) and "Unexpected" not in str(caught.value)


def test_a_reset_body_through_botocores_own_get_is_retried_then_offline(s3, bucket, proxied):
    key = layout.info_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b"y" * 4000)
    proxied.set_faults(reset_body=1.0)
    settings = cfg.load_settings(cli_overrides={cfg.S3_BUCKET_NAME: bucket}, env={})
    client = s3_client(static_access(settings, ADA), settings, max_attempts=2)
    remote = Remote(client, bucket, ADA, sleep=lambda s: None)  # no credentials: botocore's GET
    with pytest.raises(OfflineError):
        remote.get(key)
    assert proxied.injected["reset_body"] == remote.max_attempts > 1
    remote = Remote(client, bucket, ADA, sleep=lambda s: proxied.set_faults())
    assert remote.get(key)[0] == b"y" * 4000


def test_a_first_sync_through_resets_mid_body_completes(desktops, s3, bucket, moto_server, monkeypatch):
    """Issue 18 point 19 at the sync's level: a third of the GET bodies cut by a reset; the
    sync retries them and pulls everything (it used to abort with "Unexpected error")."""
    from tests.support.seed import seed_bucket

    seeded = seed_bucket(s3, bucket, ADA, 6, 3, seed=11)
    proxy = FaultProxy(moto_server.url, seed=5).start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        proxy.set_faults(reset_body=0.3)
        result = desktops(ADA, bucket).sync()
    finally:
        proxy.stop()
    assert result.ok and result.errors == [], result.errors
    assert sorted(result.pulled) == sorted(seeded.conversations)
    assert proxy.injected["reset_body"] >= 1


def test_what_is_left_of_a_broken_body_reads_as_offline():
    from urllib3.exceptions import ProtocolError

    from archpal_desktop.core.errors import map_exception

    err = map_exception(ProtocolError("Connection broken: ConnectionResetError(104, 'reset')",
                                      ConnectionResetError(104, "reset")))
    assert isinstance(err, OfflineError) and "Unexpected" not in str(err)
