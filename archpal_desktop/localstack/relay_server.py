"""The coach relay on 127.0.0.1, in front of our local ConverseStream endpoint, for ``--demo``
and the tests: the same relay code as in Lambda, its DynamoDB counters in moto's server.

boto3 finds every service through ``AWS_ENDPOINT_URL_*`` (S3 and Cognito already point at moto,
Bedrock at :class:`LocalBedrock`); :func:`relay_env` adds DynamoDB.
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from typing import Any

import boto3

from archpal_desktop.relay.app import RelayHTTPServer, make_server
from archpal_desktop.relay.config import RelayConfig
from archpal_desktop.relay.service import RelayService


def relay_env(moto_url: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL_DYNAMODB": moto_url}


def create_quota_table(name: str, region: str = "us-east-1") -> str:
    """The table as the CloudFormation template declares it (key ``pk``, TTL on ``expires_at``)."""
    db = boto3.client("dynamodb", region_name=region)
    db.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    db.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires_at"})
    return name


class LocalRelay:
    """``start()`` serves the relay on a free loopback port; ``url`` is the coach_relay_url."""

    def __init__(self, config: RelayConfig, *, create_table: bool = True):
        if create_table and not config.quota_table:
            config = replace(config, quota_table=f"archpal-relay-{uuid.uuid4().hex[:8]}")
        if create_table:
            create_quota_table(config.quota_table, config.region)
        self.config = config
        self.service = RelayService(config)
        self._httpd: RelayHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> "LocalRelay":
        self._httpd = make_server(self.service)
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                         name="local-relay", daemon=True).start()
        return self

    def reconfigure(self, **changes: Any) -> None:
        """Tests: another limit or prompt, same table and port."""
        self.config = replace(self.config, **changes)
        old, self.service = self.service, RelayService(self.config)
        old.close()
        if self._httpd is not None:
            setattr(self._httpd.RequestHandlerClass, "service", self.service)

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self.service.close()

    close = stop


def local_demo_relay(*, bucket: str, pool_id: str, client_id: str, model: str,
                     region: str = "us-east-1") -> LocalRelay:
    """The demo's relay: the demo's pool, bucket and model, default limits."""
    return LocalRelay(RelayConfig(bucket=bucket, user_pool_id=pool_id, client_ids=(client_id,),
                                  region=region, model=model)).start()
