"""``admin usage`` shows the relay's tokens per day and their estimated cost, from the counters
the relay really wrote; ``doctor`` checks the relay or says what direct access allows."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from archpal_desktop.core import config as cfg
from archpal_desktop.core.doctor import FAIL, INFO, OK, run_doctor
from archpal_desktop.localstack.bedrock import Reply
from tests.admin.conftest import cli  # noqa: F401 - the fixture
from tests.relay.conftest import make_pool
from tests.relay.test_desktop_relay import student  # noqa: F401 - the fixture

QUESTION = {"role": "user", "text": "How long should my literature review be?"}


def test_admin_usage_shows_the_relays_tokens_per_day_and_cost(site, cli, caplog):  # noqa: F811
    caplog.set_level(logging.INFO, logger="archpal.relay")
    for text in ("Short answer.", "A somewhat longer answer about reviews."):
        site.bedrock.script(Reply(text=text))
        assert site.post({"turns": [QUESTION]}).status_code == 200
    # logged before each reply's final event: all there once the responses are read
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.name == "archpal.relay" and r.getMessage().startswith("{")]
    assert len(lines) == 2
    tin = sum(x["input_tokens"] for x in lines)
    tout = sum(x["output_tokens"] for x in lines)
    table = site.relay.config.quota_table
    run = cli("admin", "usage", "--bucket", site.bucket, "--relay-table", table, "--json",
              "--input-price", "1000000", "--output-price", "2000000")
    assert run.code == 0, run.err
    relay = json.loads(run.out)["relay"]
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert len(relay["days"]) == 30 and relay["days"][-1]["day"] == today
    assert relay["days"][-1] == {"day": today, "requests": 2, "input_tokens": tin, "output_tokens": tout,
                                 "usd": tin * 1.0 + tout * 2.0}
    assert relay["total_usd"] == tin * 1.0 + tout * 2.0
    text = cli("admin", "usage", "--bucket", site.bucket, "--relay-table", table)
    assert "Coach relay" in text.out and today in text.out and "$15.0/M" in text.out
    # without a relay table the S3 part is all there is
    assert "relay" not in json.loads(cli("admin", "usage", "--bucket", site.bucket, "--json").out)


def _coach(checks):
    return [c for c in checks if c.name.startswith("coach")]


def test_doctor_checks_the_relay_accepts_the_students_sign_in(site, student):  # noqa: F811
    settings, access, _ = student
    (check,) = _coach(run_doctor(settings, lambda: access))
    assert check.status == OK and "accepts your sign-in" in check.detail
    assert site.bedrock.requests == []                   # the check never calls the model


def test_doctor_fails_for_a_relay_of_another_pool_or_none_reachable(site, student, aws_env):  # noqa: F811
    settings, access, _ = student
    other = make_pool("elsewhere")
    site.relay.reconfigure(user_pool_id=other.pool_id, client_ids=(other.client_id,))
    (check,) = _coach(run_doctor(settings, lambda: access))
    assert check.status == FAIL and "another user pool" in check.detail
    gone = cfg.load_settings(cli_overrides={**{k: v for k, v, src in settings.items() if src == "cli"},
                                            cfg.COACH_RELAY_URL: "http://127.0.0.1:9"})
    (check,) = _coach(run_doctor(gone, lambda: access))
    assert check.status == FAIL and "could not be reached" in check.detail


def test_doctor_without_a_relay_says_what_direct_access_allows(site, student):  # noqa: F811
    settings, access, _ = student
    direct = cfg.load_settings(cli_overrides={**{k: v for k, v, src in settings.items() if src == "cli"},
                                              cfg.COACH_RELAY_URL: ""})
    (check,) = _coach(run_doctor(direct, lambda: access))
    assert check.status == INFO and "any prompt" in check.detail and "relay" in check.fix
