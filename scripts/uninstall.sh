#!/usr/bin/env bash
# Remove the hwr-qt that install.sh installed for this user: exactly the files, link and
# folders listed in ~/.local/lib/hwr-qt/.install-manifest (folders only if left empty).
#
#   ~/.local/lib/hwr-qt/uninstall.sh      (or ./uninstall.sh in the unpacked archive)
set -euo pipefail

lib_dir=$HOME/.local/lib/hwr-qt
manifest=$lib_dir/.install-manifest
quiet=0
[[ "${1:-}" == --quiet ]] && quiet=1

die() { printf 'uninstall.sh: error: %s\n' "$*" >&2; exit 1; }

[[ -f "$manifest" ]] || die "no hwr-qt installed by install.sh here (no $manifest)"
mapfile -t entries <"$manifest"

declare -A refresh=()  # icon theme / applications folders whose caches may need refreshing
for ((i = ${#entries[@]} - 1; i >= 0; i--)); do
    kind=${entries[i]%%$'\t'*}
    path=${entries[i]#*$'\t'}
    case $kind in
        tree)  # only ever the install folder itself
            [[ "$path" == "$lib_dir" ]] || die "unexpected folder in the manifest: $path"
            rm -rf -- "$path"
            ;;
        link)  # only if it still points at the installed app
            if [[ -L "$path" && "$(readlink -- "$path")" == "$lib_dir/hwr-qt" ]]; then
                rm -f -- "$path"
            fi
            ;;
        file)
            case $path in
                */hwr-qt.desktop) refresh[$(dirname "$path")]=1 ;;
                */hicolor/*/apps/hwr-qt.png) refresh[${path%%/hicolor/*}/hicolor]=1 ;;
                */mime/packages/hwr-qt.xml) refresh[${path%/packages/*}]=1 ;;
                *) die "unexpected file in the manifest: $path" ;;
            esac
            rm -f -- "$path"
            ;;
        dir)  # folders install.sh created, if nothing else was put there since
            rmdir -- "$path" 2>/dev/null || true
            ;;
        *) die "unexpected manifest entry: ${entries[i]}" ;;
    esac
done

for dir in "${!refresh[@]}"; do
    if [[ -f "$dir/icon-theme.cache" ]] && command -v gtk-update-icon-cache >/dev/null; then
        gtk-update-icon-cache -q -t -f "$dir" || true
    fi
    if [[ -f "$dir/mimeinfo.cache" ]] && command -v update-desktop-database >/dev/null; then
        update-desktop-database -q "$dir" || true
    fi
    if [[ -f "$dir/mime.cache" ]] && command -v update-mime-database >/dev/null; then
        update-mime-database "$dir" >/dev/null 2>&1 || true
    fi
done

if ((!quiet)); then
    echo "Removed hwr-qt from $lib_dir"
fi
