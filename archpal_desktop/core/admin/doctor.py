"""Moved to :mod:`archpal_desktop.core.doctor` (it serves every user; kept for this session's merges)."""
from __future__ import annotations

from archpal_desktop.core.doctor import *  # noqa: F401,F403
from archpal_desktop.core.doctor import (FAIL, INFO, OK, WARN, Check, Doctor, format_checks,  # noqa: F401
                                         run_doctor)
