"""Moved to :mod:`archpal_desktop.core.auth.tokens` (kept for this session's merges)."""
from __future__ import annotations

from archpal_desktop.core.auth.tokens import *  # noqa: F401,F403
from archpal_desktop.core.auth.tokens import JwksCache, TokenError  # noqa: F401
