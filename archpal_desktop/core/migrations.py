"""Moved to :mod:`archpal_desktop.core.cache.schema` (kept for this session's merges)."""
from __future__ import annotations

from archpal_desktop.core.cache.schema import MIGRATIONS, SCHEMA_VERSION, migrate

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]
