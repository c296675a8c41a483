"""ArchPal Desktop: the native, offline-first client for the ArchPal writing coach."""

__version__ = "0.1.0"
APP_NAME = "ArchPal"
APP_ID = "archpal-desktop"
