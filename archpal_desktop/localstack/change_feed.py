"""The site's change feed on the local backend (``--demo``, tests): the same server code as in
Lambda (:func:`archpal_desktop.relay.changes.record_changes`), fed the way Lambda's SQS trigger
feeds it.

moto's S3 sends its bucket notifications to queues in the same process (moto/s3/notifications.py;
it has no Lambda runtime to invoke), so :meth:`LocalChangeFeed.start` creates the counters table
and a queue, points the bucket's ``s3:ObjectCreated:*`` / ``s3:ObjectRemoved:*`` events under
``users/`` at the queue (the bucket's other notifications are kept: core/admin/change_feed.py),
and a daemon thread long-polls it (1 s waits; :meth:`stop` ends the wait with a message), hands each batch to
``record_changes`` as an SQS-triggered Lambda receives it, and deletes what was handled. A batch
whose counters could not be written is left on the queue and comes back after its visibility
timeout. A write lands in the student's item within a few milliseconds.

The clients are made here, after the demo's moto registered its per-run secret
(core/localauth.py), so they carry it like every other botocore client of this process.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

import boto3
from botocore.config import Config

from archpal_desktop.core.admin.change_feed import put_feed
from archpal_desktop.core.sync.changes import ChangeFeed
from archpal_desktop.localstack.server import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY
from archpal_desktop.relay.changes import create_changes_table, record_changes

log = logging.getLogger(__name__)

WAIT_SECONDS = 1          # each long poll (stop() ends the one running at once)
VISIBILITY_SECONDS = 2    # a batch that failed is delivered again after this


class LocalChangeFeed:
    def __init__(self, endpoint_url: str, bucket: str, table: str | None = None,
                 region: str = "us-east-1"):
        self.endpoint_url = endpoint_url
        self.bucket = bucket
        self.table = table or f"archpal-changes-{uuid.uuid4().hex[:8]}"
        self.region = region
        self.queue_url = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._db: Any = None
        self._sqs: Any = None

    def _client(self, session: boto3.Session, service: str, config: Any = None) -> Any:
        return session.client(service, endpoint_url=self.endpoint_url, region_name=self.region,
                              config=config)

    def start(self) -> "LocalChangeFeed":
        # the local backend's dummy credentials, whatever the environment holds: the queue must
        # live in the bucket's (moto's default) account for S3 to find it
        session = boto3.Session(aws_access_key_id=LOCAL_ACCESS_KEY,
                                aws_secret_access_key=LOCAL_SECRET_KEY, region_name=self.region)
        self._db = self._client(session, "dynamodb")
        # few retries: a poll against a server that is going away gives up quickly
        self._sqs = self._client(session, "sqs", Config(
            connect_timeout=2, read_timeout=WAIT_SECONDS + 10,
            retries={"mode": "standard", "max_attempts": 2}))
        create_changes_table(self._db, self.table)
        self.queue_url = self._sqs.create_queue(
            QueueName=f"archpal-changes-{uuid.uuid4().hex[:10]}",
            Attributes={"VisibilityTimeout": str(VISIBILITY_SECONDS)})["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                             AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        put_feed(self._client(session, "s3"), self.bucket, "QueueConfigurations", arn)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="local-change-feed", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                got = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                                WaitTimeSeconds=WAIT_SECONDS)
            except Exception:  # noqa: BLE001 - the server stopping under us, a hiccup: try again
                if self._stop.wait(0.2):
                    return
                log.debug("local change feed: receive failed", exc_info=True)
                continue
            if self._stop.is_set():
                return             # what came with the wake-up stays on the queue
            messages = got.get("Messages") or []
            if messages:
                self._handle(messages)

    def _handle(self, messages: list[dict]) -> None:
        # what Lambda's SQS trigger passes the function: one event, one record per message
        event = {"Records": [{"eventSource": "aws:sqs", "messageId": m.get("MessageId"),
                              "receiptHandle": m.get("ReceiptHandle"), "body": m.get("Body")}
                             for m in messages]}
        try:
            record_changes(self._db, self.table, event)
        except Exception:  # noqa: BLE001 - left on the queue: delivered again after the timeout
            log.warning("local change feed: a batch failed; it will be delivered again", exc_info=True)
            return
        try:
            self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])
        except Exception:  # noqa: BLE001 - counted again if redelivered: one extra look at S3
            log.debug("local change feed: delete failed", exc_info=True)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Until the queue holds nothing, waiting or being handled (the bench: a fake clock's
        poll must see what real time would have delivered by then)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            attrs = self._sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages",
                                                         "ApproximateNumberOfMessagesNotVisible"])
            if not any(int(v) for v in attrs.get("Attributes", {}).values()):
                return True
            time.sleep(0.01)
        return False

    def seq(self, sub: str) -> int:
        """The student's change count, as the feed's function left it (read as the app reads it)."""
        return ChangeFeed(self._db, self.table, sub).read().seq

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            try:   # ends the running long poll at once instead of after its wait
                self._sqs.send_message(QueueUrl=self.queue_url, MessageBody='{"archpal": "stop"}')
            except Exception:  # noqa: BLE001 - the server is gone: the poll ends by itself
                log.debug("local change feed: no wake-up message", exc_info=True)
            self._thread.join(WAIT_SECONDS + 5)
            self._thread = None
