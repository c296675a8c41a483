"""Moved to :mod:`archpal_desktop.core.sync.remote` (kept for this session's merges)."""
from __future__ import annotations

from archpal_desktop.core.sync.remote import Remote, RemoteObject

__all__ = ["Remote", "RemoteObject"]
