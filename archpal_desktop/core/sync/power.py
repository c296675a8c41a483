"""Is the machine on battery? (issue 19: polls back off then). Unknown counts as mains.

- Linux: ``/sys/class/power_supply``: on battery when a battery discharges and no mains or USB
  supply is online (a desktop has no battery there at all: mains).
- Windows: ``GetSystemPowerStatus``: battery saver on, or the AC line offline.
- Elsewhere (macOS), or anything unreadable: mains.

Plain file reads of a few bytes (sysfs) or one system call: cheap, but the driver still calls
this off the UI thread."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)

SYSFS = Path("/sys/class/power_supply")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def on_battery_sysfs(root: Path = SYSFS) -> bool | None:
    """True/False from the kernel's power-supply class; None when it says nothing."""
    try:
        supplies = sorted(root.iterdir())
    except OSError:
        return None
    discharging = False
    mains_online = False
    seen = False
    for dev in supplies:
        kind = _read(dev / "type").lower()
        if kind == "battery":
            if _read(dev / "scope").lower() == "device":
                continue  # a mouse's or a headset's battery, not the machine's
            seen = True
            if _read(dev / "status").lower() == "discharging":
                discharging = True
        elif kind in ("mains", "usb", "usb_c", "usb_pd", "wireless"):
            seen = True
            if _read(dev / "online") == "1":
                mains_online = True
    if not seen:
        return None
    return discharging and not mains_online


def on_battery_windows() -> bool | None:  # pragma: no cover - Windows only
    import ctypes
    from ctypes import wintypes

    class SystemPowerStatus(ctypes.Structure):
        _fields_ = [("ACLineStatus", wintypes.BYTE), ("BatteryFlag", wintypes.BYTE),
                    ("BatteryLifePercent", wintypes.BYTE), ("SystemStatusFlag", wintypes.BYTE),
                    ("BatteryLifeTime", wintypes.DWORD), ("BatteryFullLifeTime", wintypes.DWORD)]
    status = SystemPowerStatus()
    if not ctypes.windll.kernel32.GetSystemPowerStatus(ctypes.byref(status)):  # type: ignore[attr-defined]
        return None
    if status.SystemStatusFlag & 1:   # battery saver on
        return True
    line = status.ACLineStatus & 0xFF
    return None if line == 255 else line == 0


def on_battery(root: Path = SYSFS) -> bool:
    """The answer the scheduler uses: unknown is mains."""
    try:
        if sys.platform.startswith("win"):
            answer = on_battery_windows()
        else:
            answer = on_battery_sysfs(root)
    except Exception:  # noqa: BLE001 - a power question must never break syncing
        log.debug("power state unreadable", exc_info=True)
        answer = None
    return bool(answer)
