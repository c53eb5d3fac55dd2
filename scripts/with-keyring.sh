#!/usr/bin/env bash
# Runs CMD... with a real, unlocked Secret Service (gnome-keyring) on a private D-Bus session bus,
# so keytar tests exercise the OS keychain path on headless Linux and CI:
#   scripts/with-keyring.sh node scripts/run-tests.mjs
# The keyring lives in a throwaway HOME-like data dir and its password is empty: test use only.
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
for tool in dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" > /dev/null || { echo "$0: $tool not found (apt-get install dbus gnome-keyring)" >&2; exit 127; }
done
keyring_home="$(mktemp -d "${TMPDIR:-/tmp}/airlock-keyring.XXXXXX")"
trap 'rm -rf "$keyring_home"' EXIT
export AIRLOCK_KEYRING_HOME="$keyring_home"
# Inside the session bus: start the daemon unlocked (an empty password line on stdin), export what it
# prints (GNOME_KEYRING_CONTROL), then exec the command.
dbus-run-session -- bash -c '
  export XDG_DATA_HOME="$AIRLOCK_KEYRING_HOME/data" XDG_RUNTIME_DIR="$AIRLOCK_KEYRING_HOME/run"
  mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  eval "$(printf "\n" | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  exec "$@"
' with-keyring "$@"
