"""S3 access for one user's prefix: list with ETags, GET, conditional PUT/DELETE, request counts.

Retries: botocore's "standard" mode retries throttling, 5xx, timeouts and dropped connections
with exponential backoff and jitter (client_config in core.aws); everything that still fails is
mapped once, here, into the app's errors. Conditional writes make a retried PUT whose first
response was lost safe: the retry meets 412 and the sync engine re-reads and re-merges.

GETs, a thousand of them in a first sync, skip botocore's per-call machinery (event hooks,
request and response models, endpoint rules: about a millisecond of CPU each, most of a first
sync's client time). Where the objects live and how requests to them are signed (endpoint,
addressing style, region, signing name) is read once from one presigned URL, so it is exactly
what botocore resolves; each GET is then signed with botocore's own SigV4 signer and the
session's credentials (refreshed as usual), and sent on the client's own HTTP session (TLS
verification, proxies, timeouts, connection pool). The same faults are retried here the way the
standard mode retries them, and the same errors come out of :func:`map_exception`. Without an
HTTP session or credentials of its own, a GET is botocore's ``get_object``. One difference: a
bucket in another region than the one configured is reported (RegionMismatchError, with the
setting to fix) rather than followed, as botocore's own calls quietly do.
"""
from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qsl

from archpal_desktop.core import layout, localauth
from archpal_desktop.core.errors import (ConflictError, NotFoundError, OfflineError,
                                         ServiceUnavailableError, map_exception, mapped)

#: keys sent as they are in a URL path (the app's keys: ids are validated to these characters)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9._/-]+")
#: S3 answers worth another attempt (as botocore's standard retry mode treats them)
_TRANSIENT_STATUS = {500, 502, 503, 504}
_TRANSIENT_CODES = {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}


class _Retry(Exception):
    """A transient failure of one GET attempt; ``error`` is what the caller gets if none is left."""

    def __init__(self, error):
        super().__init__(error.message)
        self.error = error


_OPS = {"ListObjectsV2": "list", "GetObject": "get", "PutObject": "put", "DeleteObject": "delete",
        "HeadObject": "head", "HeadBucket": "head"}


@dataclass(frozen=True)
class RemoteObject:
    key: str
    etag: str
    size: int


class Remote:
    """One user's prefix in the bucket. Thread-safe (boto3 clients are)."""

    def __init__(self, client, bucket: str, sub: str, *, credentials=None, sleep=time.sleep,
                 page_size: int = 1000):
        """``credentials``: the botocore credentials the client signs with (the session's
        ``get_credentials()``), for the GETs signed here; without them GETs use the client."""
        self.client = client
        self.bucket = bucket
        self.sub = layout.validate_sub(sub)
        self.prefix = layout.user_prefix(sub)
        self.requests: Counter[str] = Counter()  # HTTP attempts, retries included
        self._lock = threading.Lock()
        self._sleep = sleep
        self._called_off = threading.Event()  # set when a sync gives up: GETs stop retrying
        self.page_size = page_size  # S3's largest LIST page
        # as many attempts as the client's retry settings give its own calls (botocore keeps
        # them as total_max_attempts: its "max_attempts" counts retries, one less)
        retries = getattr(client.meta.config, "retries", None) or {}
        self.max_attempts = max(1, int(retries.get("total_max_attempts") or 5))
        # the client's own HTTP session (botocore has kept it there since its first releases)
        self._http = getattr(getattr(client, "_endpoint", None), "http_session", None)
        self._credentials = credentials
        self._target: tuple[str, str, str] | None = None  # (URL before the key, region, service)
        self._target_known = False
        # count every HTTP attempt, so request budgets are honest about retries
        client.meta.events.register("before-send.s3", self._count)

    def _count(self, request=None, **kwargs) -> None:
        name = kwargs.get("event_name", "")
        op = name.rsplit(".", 1)[-1] if name else ""
        with self._lock:
            self.requests[_OPS.get(op, op.lower() or "other")] += 1

    def _tally(self, op: str) -> None:
        with self._lock:
            self.requests[op] += 1

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    def call_off(self) -> None:
        """A failed or cancelled sync: GETs still running give up at their next backoff instead
        of retrying (a student quitting while offline must not wait out a minute of retries)."""
        self._called_off.set()

    def resume(self) -> None:
        """A new sync starts: GETs retry again."""
        self._called_off.clear()

    def _pause(self, seconds: float) -> bool:
        """Wait before another attempt; False when the sync was called off meanwhile."""
        if self._sleep is time.sleep:
            return not self._called_off.wait(seconds)
        self._sleep(seconds)
        return not self._called_off.is_set()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {k: self.requests.get(k, 0) for k in ("list", "get", "put", "delete")}

    # -- operations -------------------------------------------------------------------------
    def list(self, on_page=None) -> dict[str, RemoteObject]:
        """Every object under the user's prefix: one ListObjectsV2 per 1,000 keys.
        ``on_page(objects)`` is called with each page's objects when another page follows (so a
        caller can start on them while the rest is listed)."""
        out: dict[str, RemoteObject] = {}
        token = None
        with mapped(key=self.prefix):
            while True:
                kwargs = {"Bucket": self.bucket, "Prefix": self.prefix, "MaxKeys": self.page_size}
                if token:
                    kwargs["ContinuationToken"] = token
                page = self.client.list_objects_v2(**kwargs)
                objects = {item["Key"]: RemoteObject(item["Key"], item.get("ETag", ""),
                                                     int(item.get("Size", 0)))
                           for item in page.get("Contents", [])}
                out.update(objects)
                if not page.get("IsTruncated"):
                    return out
                if on_page is not None:
                    on_page(objects)
                token = page.get("NextContinuationToken")

    def get(self, key: str) -> tuple[bytes, str]:
        """The object's bytes (at most MAX_OBJECT_BYTES + 1 of them) and its ETag."""
        self._check_key(key)
        target = self._object_target()
        if target is None or not _PLAIN_KEY.fullmatch(key):
            return self._get_through_client(key)
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._get_signed(key, target)
            except _Retry as retry:
                # full jitter, as the standard retry mode: up to 2^attempt seconds, capped at 20
                if attempt == self.max_attempts or self._called_off.is_set() or \
                        not self._pause(random.random() * min(20.0, 2.0 ** attempt)):
                    raise retry.error from retry.__cause__
        raise AssertionError("unreachable")

    def _object_target(self) -> tuple[str, str, str] | None:
        """(URL up to the key, signing region, signing name) as botocore resolves them for this
        bucket, read once from a presigned URL; None when GETs are to go through the client."""
        if not self._target_known:
            self._target = self._resolve_target()
            self._target_known = True
        return self._target

    def _resolve_target(self) -> tuple[str, str, str] | None:
        if self._http is None or self._credentials is None:
            return None
        probe = self.prefix + "info.json"  # any key of the prefix: only the URL's shape is used
        try:
            url = self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": probe}, ExpiresIn=60)
        except Exception:  # no credentials yet: the client's own call reports it properly
            return None
        base, _, query = url.partition("?")
        params = dict(parse_qsl(query))
        scope = params.get("X-Amz-Credential", "").split("/")
        if not base.endswith("/" + probe) or params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" \
                or len(scope) != 5:
            return None  # not SigV4 or not a plain path: botocore knows best
        return base[: -len(probe)], scope[2], scope[3]

    def _get_signed(self, key: str, target: tuple[str, str, str]) -> tuple[bytes, str]:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest

        base, region, service = target
        request = AWSRequest(method="GET", url=base + key)
        with mapped(key=key):
            # refreshed here when they are about to expire, as for the client's own calls
            frozen = self._credentials.get_frozen_credentials()
            S3SigV4Auth(frozen, service, region).add_auth(request)
        prepared = request.prepare()
        prepared.headers.update(localauth.headers_for(prepared.url))  # the demo's local S3 only
        assert self._http is not None  # _object_target() is None without an HTTP session
        prepared.stream_output = True  # read at most the size limit, never a runaway body
        self._tally("get")
        try:
            response = self._http.send(prepared)
            stream = response.raw
            try:
                body = stream.read(layout.MAX_OBJECT_BYTES + 1)
            finally:
                stream.close()  # a body read to its end has already gone back to the pool
        except Exception as exc:  # connection refused, dropped, timed out (botocore's errors)
            err = _map(exc, key)
            if isinstance(err, OfflineError):
                raise _Retry(err) from exc
            raise err from exc
        status = response.status_code
        if status == 200:
            expected = response.headers.get("Content-Length", "")
            if expected.isdigit() and len(body) < min(int(expected), layout.MAX_OBJECT_BYTES + 1):
                # the connection closed cleanly before the body's end: a dropped connection
                # too, not a short object
                raise _Retry(OfflineError(key=key))
            return body, response.headers.get("ETag", "")
        code, message = _error_fields(body, status)
        err = map_exception(_S3Error(code, message, status), key=key)
        if isinstance(err, NotFoundError):
            err.message = f"{key} is no longer in the bucket."
        if status in _TRANSIENT_STATUS or code in _TRANSIENT_CODES or \
                isinstance(err, ServiceUnavailableError):
            raise _Retry(err)
        raise err

    def _get_through_client(self, key: str) -> tuple[bytes, str]:
        """botocore's own call (no credentials were handed over, or an unusual endpoint or key).
        botocore retries the request, not the reading of a streamed body: that is retried here."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._get_once_through_client(key)
            except _Retry as retry:
                if attempt == self.max_attempts or self._called_off.is_set() or \
                        not self._pause(random.random() * min(20.0, 2.0 ** attempt)):
                    raise retry.error from retry.__cause__
        raise AssertionError("unreachable")

    def _get_once_through_client(self, key: str) -> tuple[bytes, str]:
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
            try:
                body = resp["Body"].read(layout.MAX_OBJECT_BYTES + 1)
            except Exception as exc:
                if type(exc).__name__ in _BROKEN_BODY:
                    raise _Retry(OfflineError(key=key)) from exc
                raise
            finally:
                resp["Body"].close()
            return body, resp.get("ETag", "")
        except _Retry:
            raise
        except Exception as exc:
            err = _map(exc, key)
            if isinstance(err, NotFoundError):
                err.message = f"{key} is no longer in the bucket."
            raise err from exc

    def head(self, key: str) -> str | None:
        """The object's ETag, None when there is none (one HEAD: a GET-priced request)."""
        self._check_key(key)
        try:
            with mapped(key=key):
                return self.client.head_object(Bucket=self.bucket, Key=key).get("ETag", "")
        except NotFoundError:
            return None

    def put(self, key: str, body: bytes, *, if_match: str | None = None,
            if_none_match: bool = False) -> str:
        """Conditional PUT; returns the new ETag. Raises ConflictError when the condition fails."""
        self._check_key(key)
        kwargs = {"Bucket": self.bucket, "Key": key, "Body": body, "ContentType": "application/json"}
        if if_match:
            kwargs["IfMatch"] = if_match
        elif if_none_match:
            kwargs["IfNoneMatch"] = "*"
        try:
            with mapped(key=key):
                return self.client.put_object(**kwargs).get("ETag", "")
        except NotFoundError as err:
            if not if_match:
                raise
            # the object we meant to replace is gone: a conflict for the merge loop
            raise ConflictError(f"{key} was removed while we were updating it.", key=key) from err

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        self._check_key(key)
        kwargs = {"Bucket": self.bucket, "Key": key}
        if if_match:
            kwargs["IfMatch"] = if_match
        try:
            with mapped(key=key):
                self.client.delete_object(**kwargs)
        except NotFoundError:
            return  # already gone: what a delete wants

    def _check_key(self, key: str) -> None:
        # nothing outside the signed-in user's own prefix is ever read or written
        if not key.startswith(self.prefix) or ".." in key:
            raise ValueError(f"refusing key outside {self.prefix}: {key!r}")


#: a connection broken while a body is read: urllib3's ProtocolError (a reset, or a clean close
#: before Content-Length's end), as botocore wraps it for streamed bodies, or http.client's own
_BROKEN_BODY = {"ProtocolError", "ResponseStreamingError", "IncompleteRead", "IncompleteReadError"}


def _map(exc: BaseException, key: str) -> Exception:
    """:func:`map_exception`, with a connection broken mid-body counted as a dropped connection
    (offline, retried) rather than an unexpected error."""
    if type(exc).__name__ in _BROKEN_BODY:
        return OfflineError(key=key)
    return map_exception(exc, key=key)


class _S3Error(Exception):
    """An S3 error answer, shaped as botocore's ClientError so map_exception reads it the same."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(f"{code}: {message}")
        self.response = {"Error": {"Code": code, "Message": message},
                         "ResponseMetadata": {"HTTPStatusCode": status}}


_CODE_RE = re.compile(rb"<Code>([^<]{1,200})</Code>")
_MESSAGE_RE = re.compile(rb"<Message>([^<]{0,2000})</Message>")


def _error_fields(body: bytes, status: int) -> tuple[str, str]:
    """S3's ``<Error><Code>..</Code><Message>..</Message></Error>`` (read with two bounded
    patterns, not an XML parser: the body is the server's, whatever it sends); else the status."""
    code, message = _CODE_RE.search(body or b""), _MESSAGE_RE.search(body or b"")
    return (code.group(1).decode("utf-8", "replace") if code else str(status),
            message.group(1).decode("utf-8", "replace") if message else "")
