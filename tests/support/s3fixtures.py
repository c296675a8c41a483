"""Load tests/fixtures/s3/ (the data contract's example bucket, committed with the tests) into a
bucket on the local S3. ARCHPAL_FIXTURES may point at another copy of the same layout."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("ARCHPAL_FIXTURES", ROOT / "tests" / "fixtures" / "s3"))
FIXTURE_BUCKET = "archpal-user-data-prod"
ADA = "0f6c2a8e-6b1d-4e0a-9a53-6a1f0f8c7b11"
BOB = "7d3e9b52-2c4f-4f7e-8d0a-3b5c1e9f2a44"


def fixture_objects(bucket: str = FIXTURE_BUCKET) -> dict[str, bytes]:
    base = FIXTURES / bucket
    out = {}
    for path in sorted(base.rglob("*")):
        if path.is_file():
            out[path.relative_to(base).as_posix()] = path.read_bytes()
    return out


def load_fixtures(s3, bucket: str) -> dict[str, bytes]:
    objects = fixture_objects()
    for key, body in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return objects
