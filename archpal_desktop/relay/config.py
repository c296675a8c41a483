"""The relay's settings: the site's model and limits, read from the environment (the Lambda's
variables, set by the CloudFormation template) or given directly (the local backend, tests).

Everything the coaching rules depend on is here, on the server; nothing in a request can
change it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from archpal_desktop.core.errors import ConfigError


@dataclass(frozen=True)
class RelayConfig:
    bucket: str                       # where users/<sub>/info.json lives
    user_pool_id: str
    client_ids: tuple[str, ...]       # app clients whose ID tokens are accepted (desktop, web)
    region: str = "us-east-1"
    quota_table: str = ""             # DynamoDB table of the daily counters; "" = no quotas
    model: str = "us.anthropic.claude-sonnet-4-20250514-v1:0"
    temperature: float = 0.7
    max_tokens: int = 2048
    system_prompt: str = ""           # the site's SYSTEM_PROMPT
    student_daily_tokens: int = 200_000   # 0 = no per-student limit
    site_daily_tokens: int = 20_000_000   # 0 = no site-wide limit
    max_turns: int = 200              # turns a request may carry
    max_turn_chars: int = 60_000      # characters in one turn
    max_body_bytes: int = 1_000_000   # the whole request body
    log_message_text: bool = False    # put students' text in the log (off unless the site says)
    profile_cache_seconds: float = 60.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.user_pool_id or "_" not in self.user_pool_id:
            raise ConfigError("The relay has no valid user pool id.", "Set ARCHPAL_RELAY_USER_POOL_ID.")
        if not self.client_ids:
            raise ConfigError("The relay accepts no app client.", "Set ARCHPAL_RELAY_CLIENT_IDS.")
        if not self.bucket:
            raise ConfigError("The relay has no bucket.", "Set ARCHPAL_RELAY_BUCKET.")

    @property
    def pool_region(self) -> str:
        return self.user_pool_id.split("_", 1)[0]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "RelayConfig":
        """``ARCHPAL_RELAY_<FIELD>`` for every field (CLIENT_IDS comma-separated)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(f"ARCHPAL_RELAY_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _coerce(f.name, f.type, raw)
        values.setdefault("region", env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1")
        return cls(**values)


def _coerce(name: str, kind: Any, raw: str) -> Any:
    kind = str(kind)
    try:
        if kind.startswith("tuple"):
            return tuple(p.strip() for p in raw.split(",") if p.strip())
        if kind == "bool":
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"ARCHPAL_RELAY_{name.upper()} has an invalid value {raw!r}.") from None
    return raw
