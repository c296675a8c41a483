"""The settings' keys, their defaults, and the keys a site file never holds (the keys of
:mod:`archpal_desktop.core.config`, which the rest of the code reads as ``config.THEME`` etc.)."""
from __future__ import annotations

from typing import Any

# -- keys (constants, so typos fail at import time, not at run time) -------------------------
S3_BUCKET_NAME = "s3_bucket_name"
S3_REGION = "s3_region"
AWS_REGION = "aws_region"
AWS_ACCESS_KEY_ID = "aws_access_key_id"
AWS_SECRET_ACCESS_KEY = "aws_secret_access_key"
AWS_SESSION_TOKEN = "aws_session_token"
ANTHROPIC_MODEL = "anthropic_model"
ANTHROPIC_TEMPERATURE = "anthropic_temperature"
ANTHROPIC_MAX_TOKENS = "anthropic_max_tokens"
SYSTEM_PROMPT = "SYSTEM_PROMPT"
COGNITO_USER_POOL_ID = "cognito_user_pool_id"
COGNITO_CLIENT_ID = "cognito_client_id"
COGNITO_REGION = "cognito_region"
COGNITO_IDENTITY_POOL_ID = "cognito_identity_pool_id"
COGNITO_DOMAIN = "cognito_domain"          # the web app's key: the pool's managed sign-in domain
SIGN_IN = "sign_in"                        # "browser" | "password" | "both"; "" = browser with a domain
SIGN_IN_PORTS = "sign_in_ports"            # loopback ports registered as callback URLs
IDENTITY_PROVIDER = "identity_provider"    # straight to the university's SSO (Cognito's name)
IDP_IDENTIFIER = "idp_identifier"          # or its identifier (e.g. the e-mail domain)
SIGN_OUT_URL = "sign_out_url"              # where /logout sends the browser (registered)
ALLOWED_EMAIL_DOMAINS = "allowed_email_domains"
PROVIDER = "provider"                      # "bedrock" | "openai"
OPENAI_BASE_URL = "openai_base_url"        # e.g. http://127.0.0.1:11434/v1 (Ollama)
OPENAI_MODEL = "openai_model"
OPENAI_FALLBACK = "openai_fallback"        # opt-in: the local model when Bedrock is unreachable
COACH_RELAY_URL = "coach_relay_url"        # the site's coach relay: provider "relay" (normally [managed])
COACH_RELAY_TABLE = "coach_relay_table"    # the relay's DynamoDB counters, for admin usage
SYNC_INTERVAL_SECONDS = "sync_interval_seconds"
SYNC_PARALLELISM = "sync_parallelism"
# freshness (issue 19, core/sync/schedule.py): sync_interval_seconds is the background poll
SYNC_ACTIVE_SECONDS = "sync_active_seconds"        # poll while the window is the active one
SYNC_BATTERY_SECONDS = "sync_battery_seconds"      # poll on battery
SYNC_FULL_SECONDS = "sync_full_seconds"            # a poll lists everything at least this often
SYNC_UPLOAD_DELAY_SECONDS = "sync_upload_delay_seconds"  # a write goes up this long after
SYNC_MIN_SECONDS = "sync_min_seconds"              # admin bound: no poll more often than this
SYNC_MAX_SECONDS = "sync_max_seconds"              # admin bound: nor less often than this
SYNC_CHANGES_TABLE = "sync_changes_table"          # the site's change feed (DynamoDB); "" = none
THEME = "theme"                            # "system" | "light" | "dark"
FONT_SIZE = "font_size"
SPRINT_SOUND = "sprint_sound"                # a gentle sound when a writing sprint ends
DATA_DIR = "data_dir"

DEFAULTS: dict[str, Any] = {
    S3_BUCKET_NAME: "",
    S3_REGION: "us-east-1",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "",
    AWS_SECRET_ACCESS_KEY: "",
    AWS_SESSION_TOKEN: "",
    ANTHROPIC_MODEL: "us.anthropic.claude-sonnet-4-20250514-v1:0",
    ANTHROPIC_TEMPERATURE: 0.7,
    ANTHROPIC_MAX_TOKENS: 2048,
    SYSTEM_PROMPT: "",
    COGNITO_USER_POOL_ID: "",
    COGNITO_CLIENT_ID: "",
    COGNITO_REGION: "",
    COGNITO_IDENTITY_POOL_ID: "",
    COGNITO_DOMAIN: "",
    SIGN_IN: "",
    SIGN_IN_PORTS: ["53682", "53683", "53684"],
    IDENTITY_PROVIDER: "",
    IDP_IDENTIFIER: "",
    SIGN_OUT_URL: "",
    ALLOWED_EMAIL_DOMAINS: [],
    PROVIDER: "bedrock",
    OPENAI_BASE_URL: "",
    OPENAI_MODEL: "",
    OPENAI_FALLBACK: False,  # opt-in: whoever listens on that loopback port gets the history
    COACH_RELAY_URL: "",
    COACH_RELAY_TABLE: "",
    SYNC_INTERVAL_SECONDS: 300,
    SYNC_PARALLELISM: 16,
    SYNC_ACTIVE_SECONDS: 12,
    SYNC_BATTERY_SECONDS: 120,
    SYNC_FULL_SECONDS: 1800,
    SYNC_UPLOAD_DELAY_SECONDS: 1.0,
    SYNC_MIN_SECONDS: 10,
    SYNC_MAX_SECONDS: 3600,
    SYNC_CHANGES_TABLE: "",
    THEME: "system",
    FONT_SIZE: 0,  # 0 = the system's size
    SPRINT_SOUND: True,
    DATA_DIR: "",
}

#: Never allowed in a site (system) file, and never copied into one (site files hold
#: identifiers, never credentials).
SECRET_KEYS = frozenset({AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
                         "openai_api_key", "anthropic_api_key", "cognito_client_secret"})

#: Extra keys a user may set that have no built-in default (kept as strings).
OPTIONAL_KEYS = frozenset({"openai_api_key"})
