"""Moved to :mod:`archpal_desktop.core.auth.keystore` (kept for this session's merges)."""
from __future__ import annotations

from archpal_desktop.core.auth.keystore import *  # noqa: F401,F403
from archpal_desktop.core.auth.keystore import CHUNK, KeyStore, is_insecure  # noqa: F401
