#!/usr/bin/env bash
# Install hwr-qt for the current user (no root needed). Run it from the unpacked archive:
#
#   tar xzf hwr-qt-<version>-linux-<arch>.tar.gz && ./hwr-qt/install.sh
#
# Puts the app in ~/.local/lib/hwr-qt, a link to it at ~/.local/bin/hwr-qt, a menu entry
# in ~/.local/share/applications and its icons in ~/.local/share/icons/hicolor ($XDG_DATA_HOME
# instead of ~/.local/share where set). Installing again replaces the earlier install.
# ~/.local/lib/hwr-qt/uninstall.sh removes exactly what this created, as listed in
# ~/.local/lib/hwr-qt/.install-manifest.
#
# It also checks that the system libraries Qt needs are there, and names the Debian/Ubuntu
# and Fedora packages of any that are missing (a warning: e.g. a Wayland desktop does not
# need the X11 ones).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
lib_dir=$HOME/.local/lib/hwr-qt
bin_dir=$HOME/.local/bin
apps_dir=$data_home/applications
icons_dir=$data_home/icons/hicolor
mime_dir=$data_home/mime
manifest_name=.install-manifest
internal=$src/_internal
resources=$internal/resources

die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

[[ -x "$src/hwr-qt" && -d "$internal" ]] ||
    die "run me from the unpacked hwr-qt folder (no hwr-qt executable next to me)"
[[ "$src" != "$(cd "$lib_dir" 2>/dev/null && pwd -P)" ]] ||
    die "this is the installed copy; run install.sh from the unpacked archive"

# --- system libraries -------------------------------------------------------------------
# soname -> "kind debian-package fedora-package"; kind: core (needed even for
# `hwr-qt recognize`), x11 (the X11/XWayland platform plugin), wayland (native Wayland).
declare -A LIBS=(
    [libGL.so.1]="core libgl1 libglvnd-glx"
    [libEGL.so.1]="core libegl1 libglvnd-egl"
    [libfontconfig.so.1]="core libfontconfig1 fontconfig"
    [libfreetype.so.6]="core libfreetype6 freetype"
    [libX11.so.6]="core libx11-6 libX11"
    [libxkbcommon.so.0]="core libxkbcommon0 libxkbcommon"
    [libglib-2.0.so.0]="core libglib2.0-0 glib2"
    [libgthread-2.0.so.0]="core libglib2.0-0 glib2"
    [libdbus-1.so.3]="core libdbus-1-3 dbus-libs"
    [libstdc++.so.6]="core libstdc++6 libstdc++"
    [libgcc_s.so.1]="core libgcc-s1 libgcc"
    [libz.so.1]="core zlib1g zlib"
    [libbz2.so.1.0]="core libbz2-1.0 bzip2-libs"
    [liblzma.so.5]="core liblzma5 xz-libs"
    [libzstd.so.1]="core libzstd1 libzstd"
    [libffi.so.8]="core libffi8 libffi"
    [libxcb.so.1]="x11 libxcb1 libxcb"
    [libX11-xcb.so.1]="x11 libx11-xcb1 libX11-xcb"
    [libxkbcommon-x11.so.0]="x11 libxkbcommon-x11-0 libxkbcommon-x11"
    [libxcb-cursor.so.0]="x11 libxcb-cursor0 xcb-util-cursor"
    [libxcb-icccm.so.4]="x11 libxcb-icccm4 xcb-util-wm"
    [libxcb-keysyms.so.1]="x11 libxcb-keysyms1 xcb-util-keysyms"
    [libxcb-image.so.0]="x11 libxcb-image0 xcb-util-image"
    [libxcb-render-util.so.0]="x11 libxcb-render-util0 xcb-util-renderutil"
    [libxcb-util.so.1]="x11 libxcb-util1 xcb-util"
    [libxcb-randr.so.0]="x11 libxcb-randr0 libxcb"
    [libxcb-render.so.0]="x11 libxcb-render0 libxcb"
    [libxcb-shape.so.0]="x11 libxcb-shape0 libxcb"
    [libxcb-shm.so.0]="x11 libxcb-shm0 libxcb"
    [libxcb-sync.so.1]="x11 libxcb-sync1 libxcb"
    [libxcb-xfixes.so.0]="x11 libxcb-xfixes0 libxcb"
    [libxcb-xkb.so.1]="x11 libxcb-xkb1 libxcb"
    [libxcb-glx.so.0]="x11 libxcb-glx0 libxcb"
    [libwayland-client.so.0]="wayland libwayland-client0 libwayland-client"
    [libwayland-cursor.so.0]="wayland libwayland-cursor0 libwayland-cursor"
)

# Which libraries the bundle cannot find: ldd on its binaries, with the bundle's own
# libraries first on the search path as they are at run time. Without ldd, look the
# known ones up in the linker cache (or the usual folders) and in the bundle.
missing_libs() {
    if command -v ldd >/dev/null 2>&1; then
        find "$internal" -type f \( -name '*.so' -o -name '*.so.*' \) -print0 |
            LD_LIBRARY_PATH="$internal" xargs -0 ldd 2>/dev/null |
            awk '$2 == "=>" && $3 == "not" { print $1 }' | sort -u
        return
    fi
    local cache lib
    cache=$({ ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null || true)
    for lib in "${!LIBS[@]}"; do
        [[ -e "$internal/$lib" ]] && continue
        grep -qF "$lib " <<<"$cache" && continue
        compgen -G "/usr/lib*/$lib" >/dev/null || compgen -G "/usr/lib/*/$lib" >/dev/null ||
            compgen -G "/lib*/$lib" >/dev/null || compgen -G "/lib/*/$lib" >/dev/null ||
            echo "$lib"
    done | sort
}

check_libs() {
    local lib kind deb rpm
    local -A debs=() rpms=() what=()
    while read -r lib; do
        [[ -n "$lib" ]] || continue
        if [[ -n "${LIBS[$lib]:-}" ]]; then
            read -r kind deb rpm <<<"${LIBS[$lib]}"
        else
            kind=other deb="" rpm=""
        fi
        what[$kind]+=" $lib"
        if [[ -n "$deb" ]]; then
            debs[$deb]=1
            rpms[$rpm]=1
        fi
    done < <(missing_libs)
    ((${#what[@]})) || return 0
    {
        echo
        echo "WARNING: hwr-qt needs system libraries that are not installed:"
        [[ -n "${what[core]:-}" ]] && echo "  to start at all:${what[core]}"
        [[ -n "${what[x11]:-}" ]] && echo "  on X11 (and XWayland) desktops:${what[x11]}"
        [[ -n "${what[wayland]:-}" ]] && echo "  on Wayland desktops:${what[wayland]}"
        [[ -n "${what[other]:-}" ]] && echo "  other:${what[other]}"
        if ((${#debs[@]})); then
            echo "Install them with"
            echo "  Debian/Ubuntu: sudo apt install $(printf '%s\n' "${!debs[@]}" | sort | paste -sd ' ')"
            echo "  Fedora:        sudo dnf install $(printf '%s\n' "${!rpms[@]}" | sort | paste -sd ' ')"
        fi
        echo "(Only those for the kind of session you use are needed: a Wayland desktop can do"
        echo "without the X11 ones and vice versa. hwr-qt is installed all the same.)"
        echo
    } >&2
}

# --- what an earlier install left -------------------------------------------------------
declare -A ours=()  # paths an earlier install.sh created (from its manifest)
if [[ -e "$lib_dir" ]]; then
    [[ -f "$lib_dir/$manifest_name" ]] ||
        die "$lib_dir exists but was not made by install.sh; move it away first"
    while IFS=$'\t' read -r _ path; do
        ours[$path]=1
    done <"$lib_dir/$manifest_name"
fi
desktop_file=$apps_dir/hwr-qt.desktop
link=$bin_dir/hwr-qt
targets=("$link" "$desktop_file" "$mime_dir/packages/hwr-qt.xml")
for png in "$resources"/icons/hicolor/*/apps/hwr-qt.png; do
    size_dir=${png#"$resources/icons/hicolor/"}
    targets+=("$icons_dir/$size_dir")
done
for target in "${targets[@]}"; do
    if [[ -e "$target" || -L "$target" ]] && [[ -z "${ours[$target]:-}" ]]; then
        die "$target exists and was not made by install.sh; move it away first"
    fi
done

check_libs

if [[ -e "$lib_dir" ]]; then
    echo "Replacing the hwr-qt installed in $lib_dir"
    bash "$lib_dir/uninstall.sh" --quiet
fi

# --- install ----------------------------------------------------------------------------
# Each thing made is recorded as "<kind>\t<path>" in the manifest, which lives in the
# install folder: kept in memory until that folder is in place, appended to from then on,
# so that an install that stops half way can still be uninstalled.
manifest=$lib_dir/$manifest_name
pending=()
record() {
    if [[ -f "$manifest" ]]; then
        printf '%s\t%s\n' "$1" "$2" >>"$manifest"
    else
        pending+=("$1"$'\t'"$2")
    fi
}
make_dir() {  # mkdir -p, recording each folder it creates
    local dir=$1 missing=()
    while [[ ! -d "$dir" ]]; do
        missing=("$dir" "${missing[@]}")
        dir=$(dirname "$dir")
    done
    for dir in "${missing[@]}"; do
        mkdir "$dir"
        record dir "$dir"
    done
}

make_dir "$(dirname "$lib_dir")"
staging=$(mktemp -d "$(dirname "$lib_dir")/.hwr-qt-install.XXXXXX")
trap 'rm -rf "$staging"' EXIT
cp -R "$src/." "$staging/"
chmod 755 "$staging"
pending+=("tree"$'\t'"$lib_dir")
printf '%s\n' "${pending[@]}" >"$staging/$manifest_name"
mv "$staging" "$lib_dir"
trap - EXIT

make_dir "$bin_dir"
ln -s "$lib_dir/hwr-qt" "$link"
record link "$link"

# The menu entry runs the installed executable by its full path (quoted, as the desktop
# entry spec asks), so it works whether or not ~/.local/bin is on the session's PATH.
make_dir "$apps_dir"
exec_path=$lib_dir/hwr-qt
if [[ "$exec_path" =~ [\"\`\$\\] ]]; then
    exec_line="Exec=hwr-qt %f"  # characters that would need escaping: rely on PATH instead
else
    exec_line="Exec=\"$exec_path\" %f"  # %f: the file opened with it (File manager)
fi
sed -e "s|^Exec=.*|$exec_line|" -e "s|^TryExec=.*|TryExec=$exec_path|" \
    "$resources/hwr-qt.desktop" >"$desktop_file"
chmod 644 "$desktop_file"
record file "$desktop_file"

# The ink file type (.ink), so file managers offer hwr-qt for it.
mime_file=$mime_dir/packages/hwr-qt.xml
make_dir "$(dirname "$mime_file")"
cp "$resources/hwr-qt-mime.xml" "$mime_file"
chmod 644 "$mime_file"
record file "$mime_file"

for png in "$resources"/icons/hicolor/*/apps/hwr-qt.png; do
    dest=$icons_dir/${png#"$resources/icons/hicolor/"}
    make_dir "$(dirname "$dest")"
    cp "$png" "$dest"
    chmod 644 "$dest"
    record file "$dest"
done

# Refresh the caches only where the desktop already keeps them (creating one would leave a
# file behind that uninstall.sh did not know about).
if [[ -f "$icons_dir/icon-theme.cache" ]] && command -v gtk-update-icon-cache >/dev/null; then
    gtk-update-icon-cache -q -t -f "$icons_dir" || true
fi
if [[ -f "$mime_dir/mime.cache" ]] && command -v update-mime-database >/dev/null; then
    update-mime-database "$mime_dir" >/dev/null 2>&1 || true
fi
if [[ -f "$apps_dir/mimeinfo.cache" ]] && command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$apps_dir" || true
fi

echo "Installed hwr-qt in $lib_dir"
echo "  command:    $link"
echo "  menu entry: $desktop_file"
echo "  uninstall:  $lib_dir/uninstall.sh"
case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) echo "Note: $bin_dir is not on your PATH; add it, or run $link" ;;
esac
