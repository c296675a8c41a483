"""The Qt-free heart of ArchPal Desktop: settings, cache, S3 layout, sync, auth, assistant."""
