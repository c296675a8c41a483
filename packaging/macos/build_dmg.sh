#!/usr/bin/env bash
# Build, sign, notarise and staple ArchPal.app in a .dmg. Runs on macOS only (release.yml runs
# it on macos-latest); it cannot run on the Linux CI machine.
#
# Environment (signing is skipped with a warning when MACOS_SIGN_IDENTITY is unset):
#   MACOS_SIGN_IDENTITY   "Developer ID Application: Your University (TEAMID)"
#   NOTARY_PROFILE        a notarytool keychain profile (xcrun notarytool store-credentials), or
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD   for notarytool without a stored profile
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-python3}"
"$PY" packaging/build_app.py
version="$("$PY" -c 'import archpal_desktop; print(archpal_desktop.__version__)')"
app="build/dist/ArchPal.app"
dmg="build/ArchPal-$version.dmg"
[ -d "$app" ] || { echo "build_dmg: $app was not built" >&2; exit 1; }

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    sign() { codesign --force --timestamp --options runtime \
                 --entitlements packaging/macos/entitlements.plist --sign "$MACOS_SIGN_IDENTITY" "$@"; }
    # inside-out: every library and executable first, then the bundle (no --deep: it is
    # deprecated and misses nested code in Resources)
    find "$app/Contents" -type f \( -name "*.so" -o -name "*.dylib" -o -perm -u+x \) -print0 |
        while IFS= read -r -d '' f; do
            if file "$f" | grep -q "Mach-O"; then sign "$f"; fi
        done
    sign "$app"
    codesign --verify --strict --verbose=2 "$app"
else
    echo "build_dmg: WARNING - MACOS_SIGN_IDENTITY unset: the app is unsigned and Gatekeeper will block it" >&2
fi

stage="$(mktemp -d)"
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
hdiutil create -volname "ArchPal" -srcfolder "$stage" -ov -format UDZO "$dmg"
rm -rf "$stage"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$dmg"
    if [ -n "${NOTARY_PROFILE:-}" ]; then
        xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
    else
        xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
            --password "$APPLE_APP_PASSWORD" --wait
    fi
    xcrun stapler staple "$dmg"
    spctl --assess --type open --context context:primary-signature --verbose "$dmg"
fi
# smoke test of the built app on the runner
QT_QPA_PLATFORM=offscreen "$app/Contents/MacOS/archpal-desktop" --self-test
echo "$dmg"
