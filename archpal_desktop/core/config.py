"""Settings, in layers: defaults < admin (system) file < user file < ARCHPAL_* env < command line.

Keys keep the web app's names where one exists (docs/ARCHITECTURE.md, "Auth, settings and safety"), so a ``secrets.toml`` reads as
it is. Keys the admin lists under ``[managed]`` in the system file are locked: no later layer can
change them, and :meth:`Settings.set_user` refuses them.

Endpoints are deliberately *not* settings: boto3 reads ``AWS_ENDPOINT_URL_*`` itself. The keys
and their defaults live in :mod:`archpal_desktop.core.config_keys` and are read from here.
"""
from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import tomli_w

from archpal_desktop.core import paths
from archpal_desktop.core.config_keys import (  # the keys, read as config.X everywhere
    S3_BUCKET_NAME, S3_REGION, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN, ANTHROPIC_MODEL, ANTHROPIC_TEMPERATURE, ANTHROPIC_MAX_TOKENS, SYSTEM_PROMPT,
    COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID, COGNITO_REGION, COGNITO_IDENTITY_POOL_ID,
    COGNITO_DOMAIN, SIGN_IN, SIGN_IN_PORTS, IDENTITY_PROVIDER, IDP_IDENTIFIER, SIGN_OUT_URL,
    ALLOWED_EMAIL_DOMAINS, PROVIDER, OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_FALLBACK,
    COACH_RELAY_URL, COACH_RELAY_TABLE, SYNC_INTERVAL_SECONDS, SYNC_PARALLELISM,
    SYNC_ACTIVE_SECONDS, SYNC_BATTERY_SECONDS, SYNC_FULL_SECONDS, SYNC_UPLOAD_DELAY_SECONDS,
    SYNC_MIN_SECONDS, SYNC_MAX_SECONDS, SYNC_CHANGES_TABLE, THEME, FONT_SIZE, SPRINT_SOUND,
    DATA_DIR, DEFAULTS, SECRET_KEYS, OPTIONAL_KEYS)
from archpal_desktop.core.errors import ConfigError, ManagedSettingError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Value:
    value: Any
    source: str  # "default", "system:<path>", "user:<path>", "env:<NAME>", "cli"


def _coerce(key: str, raw: Any) -> Any:
    """Coerce a raw (often string) value to the type of the key's default."""
    default = DEFAULTS.get(key)
    if raw is None:
        return default
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, list):
            if isinstance(raw, str):
                return [part.strip() for part in raw.split(",") if part.strip()]
            return [str(x).strip() for x in raw if str(x).strip()]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Setting {key!r} has an invalid value {raw!r}.",
                          f"It must be a {type(default).__name__}.") from exc
    return str(raw) if not isinstance(raw, str) else raw


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The settings file {path} is not valid TOML: {exc}.",
                          "Fix or remove the file and start ArchPal again.") from exc
    except OSError as exc:
        raise ConfigError(f"The settings file {path} could not be read: {exc.strerror}.") from exc


def flatten(doc: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """A settings document -> (flat values, managed keys).

    Top-level keys are values. ``[managed]`` holds locked values. Other tables (a web app
    ``secrets.toml`` may group keys, e.g. ``[aws]``) contribute the keys we know.
    """
    values: dict[str, Any] = {}
    managed: set[str] = set()
    for key, val in doc.items():
        if key == "managed" and isinstance(val, dict):
            for mkey, mval in val.items():
                values[mkey] = mval
                managed.add(mkey)
        elif isinstance(val, dict):
            for sub, sval in val.items():
                if sub in DEFAULTS or sub in OPTIONAL_KEYS:
                    values.setdefault(sub, sval)
        else:
            values[key] = val
    return values, managed


class Settings:
    """The effective settings with the source of each value."""

    def __init__(self, layers: dict[str, Value], managed: set[str], user_file: Path,
                 warnings: list[str] | None = None):
        self._values = layers
        self._managed = frozenset(managed)
        self.user_file = Path(user_file)
        self.warnings = list(warnings or [])

    def __getitem__(self, key: str) -> Any:
        if key in self._values:
            return self._values[key].value
        if key in DEFAULTS:
            return DEFAULTS[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def source(self, key: str) -> str:
        return self._values[key].source if key in self._values else "default"

    def is_managed(self, key: str) -> bool:
        return key in self._managed

    def items(self) -> list[tuple[str, Any, str]]:
        keys = list(DEFAULTS) + sorted(k for k in self._values if k not in DEFAULTS)
        return [(k, self[k], self.source(k)) for k in keys]

    # -- typed readers: each setting's type and default in one place (git-cola's prefs) ---------
    def _int(self, key: str, minimum: int = 0) -> int:
        """An integer setting; 0 or empty means its default (as the settings file documents)."""
        return max(minimum, int(self[key] or DEFAULTS[key]))

    def _text(self, key: str) -> str:
        return str(self[key] or "").strip()

    @property
    def bucket(self) -> str:
        return self._text(S3_BUCKET_NAME)

    @property
    def aws_region(self) -> str:
        return self._text(AWS_REGION) or DEFAULTS[AWS_REGION]

    @property
    def sync_interval_seconds(self) -> int:
        return self._int(SYNC_INTERVAL_SECONDS, minimum=15)

    @property
    def sync_active_seconds(self) -> int:
        return self._int(SYNC_ACTIVE_SECONDS, minimum=1)

    @property
    def sync_battery_seconds(self) -> int:
        return self._int(SYNC_BATTERY_SECONDS, minimum=1)

    @property
    def sync_full_seconds(self) -> int:
        return self._int(SYNC_FULL_SECONDS, minimum=1)

    @property
    def sync_upload_delay_seconds(self) -> float:
        """0 is allowed (upload at once); the scheduler caps it at 5 s."""
        return max(0.0, float(self[SYNC_UPLOAD_DELAY_SECONDS]))

    @property
    def sync_min_seconds(self) -> int:
        """The admin's floor for every poll interval (lock it under [managed])."""
        return self._int(SYNC_MIN_SECONDS, minimum=1)

    @property
    def sync_max_seconds(self) -> int:
        """The admin's ceiling for every poll interval (lock it under [managed])."""
        return self._int(SYNC_MAX_SECONDS, minimum=1)

    @property
    def sync_parallelism(self) -> int:
        return self._int(SYNC_PARALLELISM, minimum=1)

    @property
    def anthropic_max_tokens(self) -> int:
        return self._int(ANTHROPIC_MAX_TOKENS, minimum=1)

    @property
    def font_size(self) -> int:
        return int(self[FONT_SIZE] or 0)  # 0: the system's size

    @property
    def theme(self) -> str:
        return self._text(THEME) or DEFAULTS[THEME]

    @property
    def provider(self) -> str:
        return (self._text(PROVIDER) or DEFAULTS[PROVIDER]).lower()

    @property
    def openai_base_url(self) -> str:
        return self._text(OPENAI_BASE_URL).rstrip("/")

    @property
    def openai_model(self) -> str:
        return self._text(OPENAI_MODEL)

    @property
    def coach_relay_url(self) -> str:
        return self._text(COACH_RELAY_URL).rstrip("/")

    @property
    def coach_relay_table(self) -> str:
        return self._text(COACH_RELAY_TABLE)

    @property
    def sync_changes_table(self) -> str:
        """The site's change feed (core/sync/changes.py); empty: polls HEAD the index instead."""
        return self._text(SYNC_CHANGES_TABLE)

    @property
    def allowed_email_domains(self) -> list[str]:
        return [str(d).strip().lower().lstrip("@") for d in self[ALLOWED_EMAIL_DOMAINS] or []
                if str(d).strip()]

    def data_dir(self) -> Path:
        custom = self[DATA_DIR]
        return Path(custom).expanduser() if custom else paths.user_data_dir()

    def s3_region(self) -> str:
        return self[S3_REGION] or self[AWS_REGION] or "us-east-1"

    def cognito_region(self) -> str:
        pool = self[COGNITO_USER_POOL_ID]
        if self[COGNITO_REGION]:
            return self[COGNITO_REGION]
        if pool and "_" in pool:
            return pool.split("_", 1)[0]
        return self[AWS_REGION] or "us-east-1"

    def set_user(self, key: str, value: Any) -> None:
        """Persist a value in the user's file (atomically) and apply it now."""
        if key in self._managed:
            raise ManagedSettingError(f"{key} is managed by your organisation.")
        if key in SECRET_KEYS:
            raise ConfigError(f"{key} is a secret and is never written to a settings file.")
        coerced = _coerce(key, value) if key in DEFAULTS else value
        doc = read_toml(self.user_file)
        doc[key] = coerced
        paths.atomic_write(self.user_file, tomli_w.dumps(doc).encode("utf-8"), mode=0o600)
        src = self.source(key)
        if src.startswith("env:") or src == "cli":
            # a higher layer still wins for this run; the file holds it for next time
            return
        self._values[key] = Value(coerced, f"user:{self.user_file}")


def _site_files(system_file: str | os.PathLike | None, warnings: list[str]) -> list[Path]:
    """The site files to read, in order. ``ARCHPAL_SYSTEM_CONFIG`` replaces the machine's file only
    in test runs; elsewhere it is read after it, only if root-owned, and cannot unlock a key the
    machine's file manages (pointing it at ``/dev/null`` or any empty root-owned file used to
    cancel every ``[managed]`` key)."""
    if system_file:
        return [Path(system_file)]
    override = paths.system_config_override()
    if override is None or paths.in_test_run():
        return [paths.system_config_file()]
    machine = paths.default_system_config_file()
    problem = paths.file_trust_problem(override, site=True)
    if problem:
        warnings.append(f"Ignored ARCHPAL_SYSTEM_CONFIG={override}: {problem}; only a "
                        "root-owned file is used.")
        return [machine]
    return [machine, override] if override.exists() else [machine]


def load_settings(config_file: str | os.PathLike | None = None,
                  cli_overrides: Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None,
                  system_file: str | os.PathLike | None = None, *,
                  use_site_file: bool = True) -> Settings:
    """``use_site_file=False``: the demo's sandbox, where the organisation's locked values
    (its data folder, bucket, user pool) must not apply: a demo never touches real data."""
    env = os.environ if env is None else env
    user_path = Path(config_file) if config_file else paths.user_config_file()
    layers: dict[str, Value] = {}
    warnings: list[str] = []
    managed: set[str] = set()

    for sys_path in (_site_files(system_file, warnings) if use_site_file else []):
        problem = paths.file_trust_problem(sys_path, site=True)
        if problem:
            warnings.append(f"Ignored the site settings file {sys_path}: {problem}. Ask your IT "
                            "administrator to fix its owner and permissions.")
            continue
        sys_values, file_managed = flatten(read_toml(sys_path))
        for key, raw in sys_values.items():
            if key in SECRET_KEYS:
                warnings.append(f"Ignored {key} in the site file {sys_path}: site files must not "
                                "hold credentials.")
                continue
            if key in managed:
                continue  # an extra site file never overrides the machine's locked values
            layers[key] = Value(_coerce(key, raw), f"system:{sys_path}")
            if key in file_managed:
                managed.add(key)

    def apply(key: str, raw: Any, source: str) -> None:
        if key in managed:
            if layers[key].value != _coerce(key, raw):
                warnings.append(f"{key} is managed by your organisation; the value from {source} "
                                "was ignored.")
            return
        layers[key] = Value(_coerce(key, raw), source)

    if config_file and not Path(config_file).exists():
        raise ConfigError(f"The settings file {config_file} does not exist.")
    problem = paths.file_trust_problem(user_path, site=False)
    if problem:
        fix = ("Another user may have put it there: remove it" if "owned" in problem else
               f"Check what it says, then run 'chmod 600 {user_path}' (or remove it)")
        warnings.append(f"Ignored your settings file {user_path}: {problem}. {fix}, and start "
                        "ArchPal again.")
        user_values: dict[str, Any] = {}
    else:
        user_values, _ignored_managed = flatten(read_toml(user_path))
    for key, raw in user_values.items():
        apply(key, raw, f"user:{user_path}")

    env_keys = {f"ARCHPAL_{k.upper()}": k for k in list(DEFAULTS) + list(OPTIONAL_KEYS)}
    for name, key in env_keys.items():
        if name in env:
            apply(key, env[name], f"env:{name}")

    for key, raw in (cli_overrides or {}).items():
        if raw is not None:
            apply(key, raw, "cli")

    settings = Settings(layers, managed, user_path, warnings)
    for w in warnings:
        log.warning("%s", w)
    return settings
