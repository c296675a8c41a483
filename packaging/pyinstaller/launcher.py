"""Frozen entry point: the same ``archpal-desktop`` command as the pip-installed one."""
import sys

from archpal_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
