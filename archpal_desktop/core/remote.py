"""S3 access for one user's prefix: list with ETags, GET, conditional PUT/DELETE, request counts.

Retries: botocore's "standard" mode retries throttling, 5xx, timeouts and dropped connections
with exponential backoff and jitter (client_config in core.aws); everything that still fails is
mapped once, here, into the app's errors. Conditional writes make a retried PUT whose first
response was lost safe: the retry meets 412 and the sync engine re-reads and re-merges.
"""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from archpal_desktop.core import layout
from archpal_desktop.core.errors import ConflictError, NotFoundError, map_exception

_OPS = {"ListObjectsV2": "list", "GetObject": "get", "PutObject": "put", "DeleteObject": "delete",
        "HeadObject": "head", "HeadBucket": "head"}


@dataclass(frozen=True)
class RemoteObject:
    key: str
    etag: str
    size: int


class Remote:
    """One user's prefix in the bucket. Thread-safe (boto3 clients are)."""

    def __init__(self, client, bucket: str, sub: str):
        self.client = client
        self.bucket = bucket
        self.sub = layout.validate_sub(sub)
        self.prefix = layout.user_prefix(sub)
        self.requests: Counter[str] = Counter()  # HTTP attempts, retries included
        self._lock = threading.Lock()
        # count every HTTP attempt, so request budgets are honest about retries
        client.meta.events.register("before-send.s3", self._count)

    def _count(self, request=None, **kwargs) -> None:
        name = kwargs.get("event_name", "")
        op = name.rsplit(".", 1)[-1] if name else ""
        with self._lock:
            self.requests[_OPS.get(op, op.lower() or "other")] += 1

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {k: self.requests.get(k, 0) for k in ("list", "get", "put", "delete")}

    # -- operations -------------------------------------------------------------------------
    def list(self) -> dict[str, RemoteObject]:
        """Every object under the user's prefix: one ListObjectsV2 per 1,000 keys."""
        out: dict[str, RemoteObject] = {}
        token = None
        try:
            while True:
                kwargs = {"Bucket": self.bucket, "Prefix": self.prefix, "MaxKeys": 1000}
                if token:
                    kwargs["ContinuationToken"] = token
                page = self.client.list_objects_v2(**kwargs)
                for item in page.get("Contents", []):
                    out[item["Key"]] = RemoteObject(item["Key"], item.get("ETag", ""), int(item.get("Size", 0)))
                if not page.get("IsTruncated"):
                    return out
                token = page.get("NextContinuationToken")
        except Exception as exc:
            raise map_exception(exc, key=self.prefix) from exc

    def get(self, key: str) -> tuple[bytes, str]:
        self._check_key(key)
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
            body = resp["Body"].read(layout.MAX_OBJECT_BYTES + 1)
            resp["Body"].close()
            return body, resp.get("ETag", "")
        except Exception as exc:
            err = map_exception(exc, key=key)
            if isinstance(err, NotFoundError):
                err.message = f"{key} is no longer in the bucket."
            raise err from exc

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
            return self.client.put_object(**kwargs).get("ETag", "")
        except Exception as exc:
            err = map_exception(exc, key=key)
            if isinstance(err, NotFoundError) and if_match:
                # the object we meant to replace is gone: a conflict for the merge loop
                raise ConflictError(f"{key} was removed while we were updating it.", key=key) from exc
            raise err from exc

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        self._check_key(key)
        kwargs = {"Bucket": self.bucket, "Key": key}
        if if_match:
            kwargs["IfMatch"] = if_match
        try:
            self.client.delete_object(**kwargs)
        except Exception as exc:
            err = map_exception(exc, key=key)
            if isinstance(err, NotFoundError):
                return
            raise err from exc

    def _check_key(self, key: str) -> None:
        # nothing outside the signed-in user's own prefix is ever read or written
        if not key.startswith(self.prefix) or ".." in key:
            raise ValueError(f"refusing key outside {self.prefix}: {key!r}")
