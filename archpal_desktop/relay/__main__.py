"""``python -m archpal_desktop.relay``: serve the relay on ``$PORT`` (8080 in Lambda, where the
Lambda Web Adapter forwards each Function URL request to it), configured by ARCHPAL_RELAY_*."""
from __future__ import annotations

import logging
import os
import sys

from archpal_desktop.relay.app import make_server
from archpal_desktop.relay.config import RelayConfig
from archpal_desktop.relay.service import RelayService


def main() -> int:
    # one JSON line per request on stdout: CloudWatch Logs keeps it as it is
    logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(message)s")
    logging.getLogger("archpal.relay").setLevel(logging.INFO)
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    host = os.environ.get("ARCHPAL_RELAY_HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8080"))
    httpd = make_server(RelayService(RelayConfig.from_env()), host, port)
    httpd.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
