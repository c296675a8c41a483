"""The Qt window: widgets, models/views, and the workers that call core off the UI thread."""
