"""Site file: import-secrets refuses secrets, installer properties map to settings, config show
masks secrets and names each value's source."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from archpal_desktop.core import config as cfg
from archpal_desktop.core.admin.site import INSTALLER_PROPERTIES, site_from_properties

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

SECRETS_TOML = f'''
s3_bucket_name = "archpal-user-data-prod"
s3_region = "us-east-1"
aws_access_key_id = "{AKID}"
aws_secret_access_key = "{SECRET}"
aws_region = "us-east-1"
anthropic_model = "us.anthropic.claude-sonnet-4-20250514-v1:0"
SYSTEM_PROMPT = "Be kind."
cognito_user_pool_id = "us-east-1_AbCdEf123"
cognito_client_id = "1h2j3k4l5m6n7o8p9q0r1s2t3u"
cognito_client_secret = "s3cr3t-client-value"
cookie_password = "hunter2-cookie"
bedrock_key = "{AKID}"
page_title = "ArchPal"

[cognito]
cognito_region = "us-east-1"
openai_api_key = "sk-not-a-real-key"
'''


def site_path() -> Path:
    return Path(os.environ["ARCHPAL_SYSTEM_CONFIG"])


def test_import_secrets_keeps_identifiers_and_refuses_secrets(cli, tmp_path):
    src = tmp_path / "secrets.toml"
    src.write_text(SECRETS_TOML)
    run = cli("admin", "import-secrets", src)
    assert run.code == 0, run.err
    text = site_path().read_text()
    for secret in (AKID, SECRET, "s3cr3t-client-value", "hunter2-cookie", "sk-not-a-real-key"):
        assert secret not in text
        assert secret not in run.err and secret not in run.out
    doc = tomllib.loads(text)
    assert doc["s3_bucket_name"] == "archpal-user-data-prod"
    assert doc["cognito_user_pool_id"] == "us-east-1_AbCdEf123"
    assert doc["cognito_client_id"] == "1h2j3k4l5m6n7o8p9q0r1s2t3u"
    assert doc["cognito_region"] == "us-east-1"
    assert doc["SYSTEM_PROMPT"] == "Be kind."
    assert "managed" not in doc
    for name in ("aws_access_key_id", "aws_secret_access_key", "cognito_client_secret",
                 "cookie_password", "bedrock_key", "cognito.openai_api_key"):
        assert name in run.err  # the warning names what was refused, never the value
    assert "Refused to copy secrets" in run.err
    assert "page_title" in run.err  # unknown keys are skipped, and said so
    settings = cfg.load_settings()
    assert settings[cfg.S3_BUCKET_NAME] == "archpal-user-data-prod"
    assert settings.source(cfg.S3_BUCKET_NAME) == f"system:{site_path()}"
    assert not settings.warnings  # the loader found no credentials to ignore
    assert oct(site_path().stat().st_mode & 0o777) == "0o644"


def test_import_secrets_lock_and_no_silent_overwrite(cli, tmp_path):
    src = tmp_path / "secrets.toml"
    src.write_text('s3_bucket_name = "site-bucket"\ncognito_client_id = "abc123"\n')
    assert cli("admin", "import-secrets", src, "--lock").code == 0
    again = cli("admin", "import-secrets", src)
    assert again.code == 1 and "already exists" in again.err and "--force" in again.err
    user_file = tmp_path / "user.toml"
    user_file.write_text('s3_bucket_name = "my-own-bucket"\n')
    settings = cfg.load_settings(user_file)
    assert settings[cfg.S3_BUCKET_NAME] == "site-bucket"
    assert settings.is_managed(cfg.S3_BUCKET_NAME)
    printed = cli("admin", "import-secrets", src, "--out", "-")
    assert printed.code == 0 and "managed" not in tomllib.loads(printed.out)
    assert tomllib.loads(printed.out)["s3_bucket_name"] == "site-bucket"


def test_import_secrets_bad_file(cli, tmp_path):
    bad = tmp_path / "secrets.toml"
    bad.write_text("s3_bucket_name = \n")
    run = cli("admin", "import-secrets", bad)
    assert run.code == 1 and "not valid TOML" in run.err
    assert not site_path().exists()
    missing = cli("admin", "import-secrets", tmp_path / "nope.toml")
    assert missing.code == 1 and "does not exist" in missing.err


PROPS = ["--region", "eu-west-1", "--user-pool-id", "eu-west-1_Ab12Cd34",
         "--client-id", "5abcdefghij1234567890klmno",
         "--identity-pool-id", "eu-west-1:1a2b3c4d-0000-1111-2222-333344445555",
         "--bucket", "uga-archpal-data", "--model", "eu.anthropic.claude-sonnet-4-20250514-v1:0",
         "--allowed-domains", "uga.edu, @Students.UGA.edu",
         "--changes-table", "archpal-site-ChangesTable-1A2B3C4D5E6F"]


def test_write_site_file_maps_every_installer_property(cli, monkeypatch):
    run = cli("admin", "write-site-file", *PROPS)
    assert run.code == 0, run.err
    monkeypatch.setenv("ARCHPAL_S3_BUCKET_NAME", "someone-elses-bucket")
    s = cfg.load_settings()
    expected = {
        cfg.AWS_REGION: "eu-west-1", cfg.S3_REGION: "eu-west-1",
        cfg.COGNITO_USER_POOL_ID: "eu-west-1_Ab12Cd34",
        cfg.COGNITO_CLIENT_ID: "5abcdefghij1234567890klmno",
        cfg.COGNITO_IDENTITY_POOL_ID: "eu-west-1:1a2b3c4d-0000-1111-2222-333344445555",
        cfg.S3_BUCKET_NAME: "uga-archpal-data",
        cfg.ANTHROPIC_MODEL: "eu.anthropic.claude-sonnet-4-20250514-v1:0",
        cfg.ALLOWED_EMAIL_DOMAINS: ["uga.edu", "students.uga.edu"],
        cfg.SYNC_CHANGES_TABLE: "archpal-site-ChangesTable-1A2B3C4D5E6F",
    }
    for key, value in expected.items():
        assert s[key] == value, key
        assert s.is_managed(key), key
    assert s.cognito_region() == "eu-west-1"
    assert any("managed by your organisation" in w for w in s.warnings)
    # every property the installers expose has a mapping, and nothing else is written
    assert set(INSTALLER_PROPERTIES) == {"REGION", "USER_POOL_ID", "CLIENT_ID", "IDENTITY_POOL_ID",
                                         "BUCKET", "MODEL", "ALLOWED_DOMAINS", "CHANGES_TABLE"}
    assert set(tomllib.loads(site_path().read_text())["managed"]) == set(expected)


def test_write_site_file_upgrade_keeps_values(cli):
    assert cli("admin", "write-site-file", *PROPS).code == 0
    before = site_path().read_bytes()
    run = cli("admin", "write-site-file")  # an upgrade with no properties
    assert run.code == 0 and "left as it is" in run.out
    assert site_path().read_bytes() == before
    assert cli("admin", "write-site-file", "--bucket", "new-bucket-name", "--no-lock").code == 0
    s = cfg.load_settings()
    assert s[cfg.S3_BUCKET_NAME] == "new-bucket-name" and not s.is_managed(cfg.S3_BUCKET_NAME)
    assert s[cfg.COGNITO_USER_POOL_ID] == "eu-west-1_Ab12Cd34" and s.is_managed(cfg.COGNITO_USER_POOL_ID)


def test_write_site_file_rejects_bad_values(cli):
    for flag, value, words in (("--region", "Europe", "AWS region"),
                               ("--user-pool-id", "pool", "user pool id"),
                               ("--bucket", "My_Bucket", "bucket name"),
                               ("--identity-pool-id", "eu-west-1_x", "identity pool id"),
                               ("--allowed-domains", "uga.edu,not a domain", "not an e-mail domain"),
                               ("--changes-table", "a/b", "DynamoDB table name"),
                               ("--client-id", AKID, "looks like an AWS key")):
        run = cli("admin", "write-site-file", flag, value)
        assert run.code == 1, flag
        assert words in run.err, (flag, run.err)
        assert not site_path().exists()


def test_site_from_properties_ignores_empty_and_rejects_unknown():
    site = site_from_properties({"BUCKET": "  ", "REGION": "us-west-2"})
    assert site.values == {cfg.AWS_REGION: "us-west-2", cfg.S3_REGION: "us-west-2"}
    import pytest
    from archpal_desktop.core.errors import ConfigError
    with pytest.raises(ConfigError, match="Unknown installer properties: SECRET"):
        site_from_properties({"SECRET": "x"})


def test_config_show_sources_and_masking(cli, tmp_path, monkeypatch):
    site_path().parent.mkdir(parents=True, exist_ok=True)
    site_path().write_text('[managed]\ncognito_user_pool_id = "us-east-1_Site123"\n')
    user = tmp_path / "user.toml"
    user.write_text(f'aws_access_key_id = "{AKID}"\naws_secret_access_key = "{SECRET}"\n'
                    'theme = "dark"\nopenai_api_key = "sk-local-model-key"\n')
    monkeypatch.setenv("ARCHPAL_S3_BUCKET_NAME", "env-bucket")
    run = cli("config", "show", "--config", user)
    assert run.code == 0, run.err
    for secret in (AKID, SECRET, "sk-local-model-key"):
        assert secret not in run.out
    lines = {line.split()[0]: line for line in run.out.splitlines()}
    assert "******** (set)" in lines["aws_secret_access_key"]
    assert f"user:{user}" in lines["aws_secret_access_key"]
    assert "******** (set)" in lines["openai_api_key"]
    assert "'env-bucket'" in lines["s3_bucket_name"]
    assert "env:ARCHPAL_S3_BUCKET_NAME" in lines["s3_bucket_name"]
    assert "'dark'" in lines["theme"] and f"user:{user}" in lines["theme"]
    assert "[managed]" in lines["cognito_user_pool_id"] and "system:" in lines["cognito_user_pool_id"]
    assert "(not set)" in lines["aws_session_token"] and "<- default" in lines["aws_session_token"]
    assert "'2048'" not in lines["anthropic_max_tokens"] and "2048" in lines["anthropic_max_tokens"]


def test_import_secrets_refuses_urls_with_userinfo_and_masks_them(cli, tmp_path):
    """Issue 18 point 16: credentials hidden in known settings never reach the site file or a
    message."""
    src = tmp_path / "secrets.toml"
    src.write_text('s3_bucket_name = "site-bucket"\n'
                   'openai_base_url = "https://coach:Pa55w0rd-xyz@llm.example.edu/v1"\n'
                   'SYSTEM_PROMPT = "Use key AKIAABCDEFGHIJKLMNOP when asked."\n'
                   '[cognito]\ncognito_domain = "https://admin%40uga:tok3n-zz@auth.example.edu"\n')
    run = cli("admin", "import-secrets", src, "--out", "-")
    assert run.code == 0, run.err
    for secret in ("Pa55w0rd-xyz", "coach", "tok3n-zz", "admin%40uga", "AKIAABCDEFGHIJKLMNOP"):
        assert secret not in run.out and secret not in run.err
    assert "user name or password" in run.err and "openai_base_url" in run.err
    assert "cognito.cognito_domain" in run.err
    assert "SYSTEM_PROMPT" in run.err  # key-shaped text inside a known setting: refused too
    assert 's3_bucket_name = "site-bucket"' in run.out


def test_userinfo_masked_in_config_show_and_installer_errors(cli, tmp_path, monkeypatch):
    from archpal_desktop.core.admin.site import mask_userinfo

    assert mask_userinfo("see https://u:p@h.example/x and ftp://a@b") == \
        "see https://***@h.example/x and ftp://***@b"
    monkeypatch.setenv("ARCHPAL_OPENAI_BASE_URL", "http://me:hunter22@127.0.0.1:11434/v1")
    shown = cli("config", "show")
    assert shown.code == 0, shown.err
    assert "hunter22" not in shown.out and "http://***@127.0.0.1:11434/v1" in shown.out
    bad = cli("admin", "write-site-file", "--model", "https://me:hunter22@models.example/x",
              "--out", tmp_path / "site.toml")
    assert bad.code == 1 and "hunter22" not in bad.err and "***@models.example" in bad.err
