"""admin usage on the shared fixtures: counts and bytes per user, the guide's prices, overrides."""
from __future__ import annotations

import json

from tests.support.s3fixtures import ADA, BOB


def test_usage_counts_bytes_and_cost(cli, fixture_bucket):
    bucket, objects = fixture_bucket
    ada_bytes = sum(len(v) for k, v in objects.items() if k.startswith(f"users/{ADA}/"))
    bob_bytes = sum(len(v) for k, v in objects.items() if k.startswith(f"users/{BOB}/"))
    run = cli("admin", "usage", "--bucket", bucket, "--json", "--puts", "2000000", "--gets", "500000")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert data["users"] == {
        ADA: {"objects": 5, "bytes": ada_bytes, "conversations": 3, "messages": 9,
              "user_messages": 5, "months": {"2026-09": 9}},
        BOB: {"objects": 3, "bytes": bob_bytes, "conversations": 1, "messages": 2,
              "user_messages": 1, "months": {"2026-10": 2}}}
    assert data["months"] == {
        "2026-09": {"messages": 9, "user_messages": 5, "active_users": 1, "conversations_started": 3},
        "2026-10": {"messages": 2, "user_messages": 1, "active_users": 1, "conversations_started": 1}}
    assert data["total_objects"] == 8 and data["total_bytes"] == ada_bytes + bob_bytes
    cost = data["cost"]
    gb = (ada_bytes + bob_bytes) / 1024 ** 3
    assert cost["prices"] == {"storage_per_gb_month": 0.023, "put_per_1000": 0.005,
                              "get_per_1000": 0.0004}
    assert abs(cost["storage_usd"] - gb * 0.023) < 1e-12
    assert abs(cost["requests_usd"] - (2000 * 0.005 + 500 * 0.0004)) < 1e-9  # $10.20
    assert abs(cost["total_usd"] - (cost["storage_usd"] + 10.2)) < 1e-9


def test_usage_price_overrides_and_text(cli, fixture_bucket):
    bucket, _ = fixture_bucket
    run = cli("admin", "usage", "--bucket", bucket, "--storage-price", "1000", "--put-price", "1",
              "--get-price", "2", "--puts", "1000", "--gets", "1000")
    assert run.code == 0, run.err
    assert f"{ADA:<40}        5" in run.out
    assert "total (2 users)" in run.out
    assert "x $1000.0/GB-month" in run.out
    assert "1,000 PUT/LIST x $1.0/1,000 + 1,000 GET x $2.0/1,000 = $3.0000" in run.out
    # the fixtures were just written, so both users count as active for the default estimate
    default = json.loads(cli("admin", "usage", "--bucket", bucket, "--json").out)
    assert default["cost"]["active_users_30d"] == 2
    assert default["cost"]["puts"] == 2 * 626 and default["cost"]["gets"] == 2 * 750


def test_usage_missing_bucket(cli, local_aws):
    run = cli("admin", "usage", "--bucket", "no-such-bucket-here")
    assert run.code == 1 and "The bucket does not exist" in run.err


def test_usage_listing_only_reads_no_object(cli, fixture_bucket):
    bucket, objects = fixture_bucket
    run = cli("admin", "usage", "--bucket", bucket, "--json", "--listing-only", "--quiet")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert data["users"][ADA] == {"objects": 5, "bytes": sum(
        len(v) for k, v in objects.items() if k.startswith(f"users/{ADA}/"))}
    assert data["months"] == {} and run.err == ""


def test_usage_per_month_table_progress_and_bad_file(cli, s3, fixture_bucket):
    bucket, _ = fixture_bucket
    broken = f"users/{BOB}/conversations/22222222-2222-4333-8444-555555555555.json"
    s3.put_object(Bucket=bucket, Key=broken, Body=b"{not json")
    run = cli("admin", "usage", "--bucket", bucket)
    assert run.code == 0, run.err
    assert "2026-09          9          5            1         3" in run.out
    assert f"problem: {broken}: The object {broken} is not valid JSON" in run.err
    assert "users 2/2  objects 5/5" in run.err  # the progress line's last state
    quiet = cli("admin", "usage", "--bucket", bucket, "--quiet")
    assert "users 2/2" not in quiet.err
