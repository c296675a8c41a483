#!/bin/sh
# /usr/bin launcher for the one-folder bundle installed under /opt
exec /opt/archpal-desktop/archpal-desktop "$@"
