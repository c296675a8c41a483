"""The site (system-wide) settings file: import from a web app ``secrets.toml``, write from
installer properties, and show effective settings without revealing secrets (design section 6).

A site file holds identifiers only. Anything that looks like a credential is refused here, by
key name *and* by value shape, because an admin pasting a ``secrets.toml`` into an installer
would otherwise ship the AWS keys to every student laptop.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import tomli_w

from archpal_desktop.core import config as cfg
from archpal_desktop.core import paths
from archpal_desktop.core.errors import ConfigError

# Names that mark a secret in any settings document, whatever the exact key.
_SECRET_NAME_RE = re.compile(r"(secret|password|passwd|token|api[_-]?key|private[_-]?key|"
                             r"credential|cookie|signing[_-]?key|access[_-]?key)", re.I)
# Value shapes of AWS keys: access key ids, and 40-char base64-ish secret keys.
_AWS_KEY_ID_RE = re.compile(r"^(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}$")
_AWS_SECRET_RE = re.compile(r"^[A-Za-z0-9/+=]{40}$")

# Credentials inside a longer value: an AWS key id, an API key, a PEM private key.
_EMBEDDED_SECRET_RE = re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])|"
                                 r"(?<![\w-])sk-[A-Za-z0-9_-]{16,}|-----BEGIN [A-Z ]*PRIVATE KEY-----")
# scheme://userinfo@ - a user name and often a password, in a URL (https://user:pass@host/)
_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#@\s]*)@")

_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_USER_POOL_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d_[A-Za-z0-9]+$")
_IDENTITY_POOL_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d:[0-9a-f-]{36}$")
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")
_BUCKET_RE = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_DOMAIN_RE = re.compile(r"^@?([a-z0-9-]+\.)+[a-z]{2,}$", re.I)
_TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")   # DynamoDB's table names

#: Installer public properties (MSI/Inno/pkg) -> settings keys. REGION fills both regions: the
#: setup guide keeps the bucket in the user pool's region.
INSTALLER_PROPERTIES: dict[str, tuple[str, ...]] = {
    "REGION": (cfg.AWS_REGION, cfg.S3_REGION),
    "USER_POOL_ID": (cfg.COGNITO_USER_POOL_ID,),
    "CLIENT_ID": (cfg.COGNITO_CLIENT_ID,),
    "IDENTITY_POOL_ID": (cfg.COGNITO_IDENTITY_POOL_ID,),
    "BUCKET": (cfg.S3_BUCKET_NAME,),
    "MODEL": (cfg.ANTHROPIC_MODEL,),
    "ALLOWED_DOMAINS": (cfg.ALLOWED_EMAIL_DOMAINS,),
    "CHANGES_TABLE": (cfg.SYNC_CHANGES_TABLE,),   # the change feed (the template's ChangesTable)
}

SITE_HEADER = ("# ArchPal Desktop site settings, written by the ArchPal admin tools.\n"
               "# Identifiers only: never put access keys, passwords or tokens here.\n"
               "# Keys under [managed] are locked: users cannot change them.\n\n")


def is_secret_key(key: str) -> bool:
    if key in cfg.SECRET_KEYS:
        return True
    # known non-secret settings can contain words like "token" (anthropic_max_tokens)
    return key not in cfg.DEFAULTS and bool(_SECRET_NAME_RE.search(key))


def looks_like_secret_value(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return any(looks_like_secret_value(v) for v in value)
    if not isinstance(value, str):
        return False
    text = value.strip()
    return bool(_AWS_KEY_ID_RE.fullmatch(text) or _AWS_SECRET_RE.fullmatch(text) or
                _EMBEDDED_SECRET_RE.search(text))


def has_userinfo(value: Any) -> bool:
    """A URL carrying a user name or password (``https://user:pass@host/``)."""
    if isinstance(value, (list, tuple)):
        return any(has_userinfo(v) for v in value)
    return isinstance(value, str) and bool(_USERINFO_RE.search(value))


def mask_userinfo(text: str) -> str:
    """``https://user:pass@host/`` -> ``https://***@host/``, wherever URLs appear in ``text``."""
    return _USERINFO_RE.sub(lambda m: m.group(1) + "***@", text)


def mask(key: str, value: Any) -> str:
    """How a setting may be shown: secrets only say whether they are set."""
    if is_secret_key(key) or looks_like_secret_value(value):
        return "******** (set)" if value not in ("", None) else "(not set)"
    if isinstance(value, list):
        return mask_userinfo(", ".join(str(v) for v in value)) if value else "(none)"
    return mask_userinfo(repr(value) if isinstance(value, str) else str(value))


@dataclass
class SiteDocument:
    """What goes into a site file, plus what was left out and why (never the values)."""

    values: dict[str, Any] = field(default_factory=dict)
    managed: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)   # secrets, by key name only
    refused_urls: list[str] = field(default_factory=list)  # URLs with userinfo, by key name
    skipped: list[str] = field(default_factory=list)   # unknown keys

    def to_toml(self) -> str:
        doc: dict[str, Any] = {k: v for k, v in self.values.items() if k not in self.managed}
        locked = {k: v for k, v in self.values.items() if k in self.managed}
        if locked:
            doc["managed"] = locked
        return SITE_HEADER + tomli_w.dumps(doc)

    def warnings(self) -> list[str]:
        out = []
        if self.refused:
            out.append("Refused to copy secrets into the site file: " + ", ".join(sorted(self.refused))
                       + ". Site files are readable by every user of the computer and are shipped by "
                         "installers; students get AWS access through the Cognito identity pool instead.")
        if self.refused_urls:
            out.append("Refused settings whose URL carries a user name or password "
                       "(scheme://***@host): " + ", ".join(sorted(self.refused_urls)) + ". Put the "
                       "URL without it; a site file is readable by every user of the computer.")
        if self.skipped:
            out.append("Skipped keys that are not ArchPal Desktop settings: "
                       + ", ".join(sorted(self.skipped)) + ".")
        return out


def _known(key: str) -> bool:
    return key in cfg.DEFAULTS


def _check_value(key: str, value: Any) -> Any:
    """Coerce like the settings loader does, so a bad value fails now, not on every laptop."""
    try:
        return cfg._coerce(key, value)  # noqa: SLF001 - the loader's own rules, on purpose
    except ConfigError as err:  # its message quotes the value: never a URL's password
        err.message, err.hint = mask_userinfo(err.message), mask_userinfo(err.hint)
        err.args = (err.message,)
        raise


def site_from_secrets(doc: Mapping[str, Any], *, lock: bool = False) -> SiteDocument:
    """A web app ``secrets.toml`` (already parsed) -> a site document without secrets.

    The web app may group keys in tables (``[aws]``, ``[cognito]``); known keys are taken from
    them as the settings loader would. Secrets are refused wherever they appear.
    """
    site = SiteDocument()

    def take(key: str, value: Any, where: str) -> None:
        name = f"{where}.{key}" if where else key
        if isinstance(value, dict):
            for sub, sval in value.items():
                take(sub, sval, name)
            return
        if is_secret_key(key) or looks_like_secret_value(value):
            site.refused.append(name)
            return
        if has_userinfo(value):
            site.refused_urls.append(name)
            return
        if not _known(key):
            site.skipped.append(name)
            return
        if key in site.values:
            return  # top-level wins over a table, as in config.flatten
        site.values[key] = _check_value(key, value)
        if lock or where == "managed":
            site.managed.add(key)

    for key, value in doc.items():
        take(key, value, "")
    return site


def _validate_property(name: str, value: str) -> None:
    checks = {
        "REGION": (_REGION_RE, "an AWS region such as us-east-1"),
        "USER_POOL_ID": (_USER_POOL_RE, "a user pool id such as us-east-1_AbCdEf123"),
        "IDENTITY_POOL_ID": (_IDENTITY_POOL_RE,
                             "an identity pool id such as us-east-1:1a2b3c4d-0000-1111-2222-333344445555"),
        "CLIENT_ID": (_CLIENT_ID_RE, "an app client id (letters and digits)"),
        "BUCKET": (_BUCKET_RE, "a bucket name (lowercase letters, digits, hyphens, dots)"),
        "CHANGES_TABLE": (_TABLE_RE, "a DynamoDB table name (3-255 letters, digits, _ . -)"),
    }
    if name in checks:
        regex, what = checks[name]
        if not regex.fullmatch(value):
            raise ConfigError(f"The installer property {name}={value!r} is not {what}.",
                              "Fix the value on the installer's command line and run it again.")
    if name == "ALLOWED_DOMAINS":
        for domain in (d.strip() for d in value.split(",")):
            if domain and not _DOMAIN_RE.fullmatch(domain):
                raise ConfigError(f"ALLOWED_DOMAINS holds {domain!r}, which is not an e-mail domain.",
                                  "Give domains separated by commas, e.g. uga.edu,students.uga.edu.")


def site_from_properties(props: Mapping[str, str | None], *, lock: bool = True,
                         existing: SiteDocument | None = None) -> SiteDocument:
    """Installer properties -> a site document. Empty properties change nothing, so an upgrade
    run without properties keeps the site file as it is; given ones replace earlier values."""
    unknown = sorted(set(props) - set(INSTALLER_PROPERTIES))
    if unknown:
        raise ConfigError("Unknown installer properties: " + ", ".join(unknown) + ".",
                          "Known ones: " + ", ".join(INSTALLER_PROPERTIES) + ".")
    site = existing or SiteDocument()
    for name, keys in INSTALLER_PROPERTIES.items():
        raw = (props.get(name) or "").strip()
        if not raw:
            continue
        _validate_property(name, raw)
        if looks_like_secret_value(raw):
            raise ConfigError(f"The installer property {name} looks like an AWS key.",
                              "Site files never hold credentials.")
        if has_userinfo(raw):
            raise ConfigError(f"The installer property {name} is a URL with a user name or "
                              f"password ({mask_userinfo(raw)}).", "Give it without them: "
                              "site files never hold credentials.")
        for key in keys:
            value = raw
            if key == cfg.ALLOWED_EMAIL_DOMAINS:
                value = [d.strip().lstrip("@").lower() for d in raw.split(",") if d.strip()]
            site.values[key] = _check_value(key, value)
            if lock:
                site.managed.add(key)
            else:
                site.managed.discard(key)
    return site


def read_site(path: Path) -> SiteDocument:
    """An existing site file as a document (so a re-run merges instead of clobbering)."""
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        return SiteDocument()
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The site file {path} is not valid TOML: {exc}.",
                          "Fix or remove it, then run the command again.") from exc
    values, managed = cfg.flatten(doc)
    site = SiteDocument()
    for key, value in values.items():
        if is_secret_key(key):
            site.refused.append(key)  # dropped from the rewritten file, and said so
            continue
        if has_userinfo(value):
            site.refused_urls.append(key)
            continue
        site.values[key] = value
        if key in managed:
            site.managed.add(key)
    return site


def write_site(site: SiteDocument, path: Path | None = None) -> Path:
    """Write atomically, world-readable (every user's app reads it; it holds no secrets)."""
    target = Path(path) if path else paths.system_config_file()
    try:
        paths.atomic_write(target, site.to_toml().encode("utf-8"), mode=0o644)
    except PermissionError as exc:
        raise ConfigError(f"No permission to write {target}.",
                          "Run the command as an administrator (sudo / an elevated prompt).") from exc
    return target


def import_secrets(source: Path, *, lock: bool = False) -> SiteDocument:
    try:
        with open(source, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{source} does not exist.", "Give the path of the web app's "
                          ".streamlit/secrets.toml.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {mask_userinfo(str(exc))}.") from exc
    return site_from_secrets(doc, lock=lock)


def effective_settings(settings: cfg.Settings) -> list[dict[str, Any]]:
    """Rows for ``config show``: key, shown value (masked), source, managed."""
    rows = []
    for key, value, source in settings.items():
        rows.append({"key": key, "value": mask(key, value), "source": source,
                     "managed": settings.is_managed(key)})
    return rows
