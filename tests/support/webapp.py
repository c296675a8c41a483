"""A writer that behaves as the ArchPal web app does: blind read-modify-write (GET, change, PUT,
no ETag check), one object at a time, one PUT per appended message, the index rewritten after.
Used to prove the desktop never loses the web app's messages, nor its own to the web app."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from botocore.exceptions import ClientError


def utcnow_iso() -> str:
    # datetime.utcnow().isoformat() + "Z", as the web app writes timestamps
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat() + "Z"


class WebAppWriter:
    def __init__(self, s3, bucket: str, sub: str, course: str = "ENGL 1102",
                 model: str = "anthropic.claude-sonnet-4"):
        self.s3, self.bucket, self.sub = s3, bucket, sub
        self.course, self.model = course, model
        self.written: list[str] = []  # message ids this writer created
        self.where: dict[str, str] = {}  # message id -> conversation id

    def _key(self, cid: str | None = None) -> str:
        if cid is None:
            return f"users/{self.sub}/conversations.json"
        return f"users/{self.sub}/conversations/{cid}.json"

    def _get(self, key: str):
        try:
            return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

    def _put(self, key: str, obj) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(obj, indent=2).encode("utf-8"))

    def index(self) -> list[dict]:
        return self._get(self._key()) or []

    def new_conversation(self, first_message: str) -> str:
        cid = str(uuid.uuid4())
        now = utcnow_iso()
        self._put(self._key(cid), {"conversation_id": cid, "user_id": self.sub, "created_at": now,
                                   "messages": [], "metadata": {}, "last_updated": now})
        index = self.index()
        title = datetime.now(timezone.utc).strftime("%b %d, %Y %I:%M %p UTC")
        index.append({"conversation_id": cid, "created_at": now, "last_updated": now,
                      "message_count": 0, "title": title})
        self._put(self._key(), index)
        self.append(cid, "user", first_message)
        return cid

    def append(self, cid: str, role: str, content: str, emotion: str = "smile") -> str | None:
        doc = self._get(self._key(cid))
        if doc is None:
            return None  # the web app shows an error for a missing conversation
        mid = str(uuid.uuid4())
        meta = {"course_number": self.course, "message_index": len(doc["messages"])}
        if role == "assistant":
            meta = {"model": self.model, "course_number": self.course, "emotion": emotion,
                    "message_index": len(doc["messages"])}
        now = utcnow_iso()
        doc["messages"].append({"message_id": mid, "role": role, "content": content,
                                "timestamp": now, "metadata": meta})
        doc["last_updated"] = now
        self._put(self._key(cid), doc)
        self.written.append(mid)
        self.where[mid] = cid
        index = self.index()
        for entry in index:
            if entry["conversation_id"] == cid:
                entry["last_updated"] = now
                entry["message_count"] = len(doc["messages"])
        self._put(self._key(), index)
        return mid
