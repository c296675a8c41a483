"""Settings layers: defaults < site file < user file < ARCHPAL_* env < command line; [managed] locks."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from archpal_desktop.core import config as cfg
from archpal_desktop.core.errors import ConfigError, ManagedSettingError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_layers_in_order(tmp_path):
    site = write(Path(os.environ["ARCHPAL_SYSTEM_CONFIG"]),
                 's3_bucket_name = "site-bucket"\ns3_region = "eu-west-1"\nanthropic_max_tokens = 1000\n')
    user = write(tmp_path / "user.toml", 's3_region = "eu-central-1"\nanthropic_max_tokens = 3000\n')
    s = cfg.load_settings(user, cli_overrides={cfg.ANTHROPIC_MAX_TOKENS: "5000"},
                          env={"ARCHPAL_ANTHROPIC_TEMPERATURE": "0.2", "ARCHPAL_S3_REGION": "us-west-2"})
    assert s[cfg.S3_BUCKET_NAME] == "site-bucket" and s.source(cfg.S3_BUCKET_NAME) == f"system:{site}"
    assert s[cfg.S3_REGION] == "us-west-2" and s.source(cfg.S3_REGION) == "env:ARCHPAL_S3_REGION"
    assert s[cfg.ANTHROPIC_TEMPERATURE] == 0.2
    assert s[cfg.ANTHROPIC_MAX_TOKENS] == 5000 and s.source(cfg.ANTHROPIC_MAX_TOKENS) == "cli"
    assert s[cfg.PROVIDER] == "bedrock" and s.source(cfg.PROVIDER) == "default"


def test_managed_keys_cannot_be_changed_by_any_later_layer(tmp_path):
    write(Path(os.environ["ARCHPAL_SYSTEM_CONFIG"]),
          '[managed]\ns3_bucket_name = "uga-archpal"\ncognito_user_pool_id = "us-east-1_abc"\n')
    user = write(tmp_path / "user.toml", 's3_bucket_name = "mine"\n')
    s = cfg.load_settings(user, cli_overrides={cfg.S3_BUCKET_NAME: "cli"},
                          env={"ARCHPAL_S3_BUCKET_NAME": "env"})
    assert s[cfg.S3_BUCKET_NAME] == "uga-archpal"
    assert s.is_managed(cfg.S3_BUCKET_NAME)
    assert any("managed by your organisation" in w for w in s.warnings)
    with pytest.raises(ManagedSettingError):
        s.set_user(cfg.S3_BUCKET_NAME, "other")
    assert s.cognito_region() == "us-east-1"


def test_site_file_never_supplies_credentials(tmp_path):
    write(Path(os.environ["ARCHPAL_SYSTEM_CONFIG"]),
          'aws_access_key_id = "AKIAEXAMPLEEXAMPLE00"\naws_secret_access_key = "not-a-real-secret"\n')
    s = cfg.load_settings(env={})
    assert s[cfg.AWS_ACCESS_KEY_ID] == "" and s[cfg.AWS_SECRET_ACCESS_KEY] == ""
    assert any("must not hold credentials" in w for w in s.warnings)


def test_web_app_secrets_toml_reads_as_it_is(tmp_path):
    secrets = write(tmp_path / "secrets.toml", '''
# ============================================
s3_bucket_name = "archpal-user-data-prod"
s3_region = "us-east-1"
aws_access_key_id = "testing"
aws_secret_access_key = "testing"
anthropic_model = "us.anthropic.claude-sonnet-4-20250514-v1:0"
SYSTEM_PROMPT = "Be kind."

[cognito]
cognito_user_pool_id = "us-east-1_Example"
cognito_client_id = "abc123"
redirect_uri = "http://localhost:8501"
''')
    s = cfg.load_settings(secrets, env={})
    assert s[cfg.S3_BUCKET_NAME] == "archpal-user-data-prod"
    assert s[cfg.SYSTEM_PROMPT] == "Be kind."
    assert s[cfg.COGNITO_USER_POOL_ID] == "us-east-1_Example"
    assert s[cfg.AWS_SECRET_ACCESS_KEY] == "testing"  # a user's own dev file may hold keys


def test_env_lists_and_bad_values(tmp_path):
    s = cfg.load_settings(env={"ARCHPAL_ALLOWED_EMAIL_DOMAINS": "uga.edu, example.edu"})
    assert s[cfg.ALLOWED_EMAIL_DOMAINS] == ["uga.edu", "example.edu"]
    with pytest.raises(ConfigError, match="invalid value"):
        cfg.load_settings(env={"ARCHPAL_ANTHROPIC_MAX_TOKENS": "lots"})
    bad = write(tmp_path / "bad.toml", "s3_bucket_name = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        cfg.load_settings(bad, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        cfg.load_settings(tmp_path / "missing.toml", env={})


def test_set_user_writes_the_user_file_atomically_and_privately(tmp_path):
    user = tmp_path / "cfg" / "config.toml"
    user.parent.mkdir()
    user.write_text("", encoding="utf-8")
    s = cfg.load_settings(user, env={})
    s.set_user(cfg.THEME, "dark")
    s.set_user(cfg.FONT_SIZE, "14")
    again = cfg.load_settings(user, env={})
    assert again[cfg.THEME] == "dark" and again[cfg.FONT_SIZE] == 14
    assert oct(user.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(ConfigError):
        s.set_user(cfg.AWS_SECRET_ACCESS_KEY, "x")
