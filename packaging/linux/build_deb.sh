#!/usr/bin/env bash
# Build archpal-desktop_<version>_<arch>.deb from the PyInstaller one-folder bundle.
#   usage: build_deb.sh BUNDLE_DIR OUT_DIR VERSION
# Layout: /opt/archpal-desktop (the bundle), /usr/bin/archpal-desktop (launcher), the .desktop
# entry and icons under /usr/share, and /etc/archpal-desktop/config.toml as a conffile (dpkg
# keeps the admin's edits on upgrade and asks before replacing them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bundle="${1:?bundle dir}"; out="${2:?output dir}"; version="${3:?version}"
arch="$(dpkg --print-architecture)"
[ -x "$bundle/archpal-desktop" ] || { echo "build_deb: no executable in $bundle" >&2; exit 1; }
for f in "$root/resources/icons/archpal.svg" "$root/resources/icons/archpal-256.png" \
         "$root/resources/archpal-desktop.desktop"; do
    [ -f "$f" ] || { echo "build_deb: missing $f" >&2; exit 1; }
done

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/archpal-desktop"
install -d "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" \
    "$pkg/usr/share/icons/hicolor/scalable/apps" "$pkg/usr/share/icons/hicolor/256x256/apps" \
    "$pkg/etc/archpal-desktop" "$pkg/usr/share/doc/archpal-desktop"
cp -a "$bundle" "$pkg/opt/archpal-desktop"
install -m 0755 "$here/archpal-desktop.sh" "$pkg/usr/bin/archpal-desktop"
install -m 0644 "$root/resources/archpal-desktop.desktop" "$pkg/usr/share/applications/archpal-desktop.desktop"
install -m 0644 "$root/resources/icons/archpal.svg" "$pkg/usr/share/icons/hicolor/scalable/apps/archpal-desktop.svg"
install -m 0644 "$root/resources/icons/archpal-256.png" "$pkg/usr/share/icons/hicolor/256x256/apps/archpal-desktop.png"
install -m 0644 "$root/packaging/site/config.toml" "$pkg/etc/archpal-desktop/config.toml"
[ -f "$root/docs/ADMIN.md" ] && install -m 0644 "$root/docs/ADMIN.md" "$pkg/usr/share/doc/archpal-desktop/ADMIN.md"
echo "/etc/archpal-desktop/config.toml" > "$pkg/DEBIAN/conffiles"
install -m 0755 "$here/postinst" "$pkg/DEBIAN/postinst"
install -m 0755 "$here/postrm" "$pkg/DEBIAN/postrm"
installed_kb="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"

# The bundle uses the system's own libraries (the spec lists them next to the bundle); each
# one's package becomes a dependency, so dpkg refuses to install where one is missing.
extra=""
libs="${bundle%/}.system-libs.txt"
if [ -f "$libs" ]; then
    while IFS= read -r lib; do
        [ -n "$lib" ] || continue
        owner=""
        for candidate in "$lib" "${lib#/usr}" "/usr${lib}"; do   # merged-/usr systems list either
            owner="$(dpkg -S "$candidate" 2>/dev/null | head -n1 | cut -d: -f1)" && [ -n "$owner" ] && break
        done
        if [ -z "$owner" ]; then
            echo "build_deb: no Debian package owns $lib (needed by the bundle)" >&2
            exit 1
        fi
        # skip what control.in already lists, and repeats
        if grep -qE "^Depends:.*(: |, )${owner}( |,|@|\$)" "$here/control.in"; then continue; fi
        case " $extra " in *" $owner "*) ;; *) extra="$extra $owner" ;; esac
    done < "$libs"
fi
extra_depends="$(for p in $extra; do printf ', %s' "$p"; done)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_KB@/$installed_kb/" \
    -e "s/@EXTRA_DEPENDS@/$extra_depends/" "$here/control.in" > "$pkg/DEBIAN/control"
# bundles are made readable for every user; nothing in them is writable after install
chmod -R u+rwX,go+rX,go-w "$pkg/opt/archpal-desktop"

mkdir -p "$out"
deb="$out/archpal-desktop_${version}_${arch}.deb"
# gzip: xz on ~100 MB of Qt costs a minute of CI on 2 cores for ~25% smaller files
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-gzip}" --build "$pkg" "$deb" >/dev/null
echo "$deb"
