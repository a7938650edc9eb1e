#!/usr/bin/env bash
# Installs dcu on a Debian concentrator (amd64 or ARM) from a built checkout (`npm run
# install:box` builds first): the code under /usr/lib/dcu (dist + production node_modules),
# `dcu`/`dcud` in /usr/bin, the systemd unit, the `dcu` system user (sysusers.d), and
# /etc/dcu/dcu.yaml from `dcu config example` when there is none (an existing one is kept).
# Re-running it upgrades the code and keeps the configuration and the state (/var/lib/dcu).
#
#   sudo scripts/install.sh            # then: edit /etc/dcu/dcu.yaml; systemctl enable --now dcud
#   DESTDIR=/tmp/root scripts/install.sh   # lay the files out under a staging root only
#                                          # (no npm, no user, no systemctl)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="${DESTDIR:-}"
lib="$dest/usr/lib/dcu"
unitdir="$dest/usr/lib/systemd/system"
say() { echo "dcu install: $*" >&2; }

[ -f "$here/dist/daemon/bin/dcud.js" ] || { say "no build in $here/dist: run \`npm run build\` (or \`npm run install:box\`) first"; exit 1; }
if [ -z "$dest" ]; then
  [ "$(id -u)" = "0" ] || { say "run as root (sudo), or set DESTDIR to stage the files"; exit 1; }
  node="$(command -v node || true)"
  [ -n "$node" ] || { say "node is not installed: Node 20 or newer is needed (Debian: NodeSource nodejs 20, or the distribution's nodejs >= 20)"; exit 1; }
  major="$("$node" -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || { say "node $("$node" --version) is too old: Node 20 or newer is needed"; exit 1; }
else
  node="${DCU_NODE:-/usr/bin/node}"
fi

say "code → $lib"
install -d "$lib" "$unitdir" "$dest/usr/lib/sysusers.d" "$dest/usr/bin" "$dest/etc/dcu"
rm -rf "$lib/dist"
cp -a "$here/dist" "$lib/dist"
cp "$here/package.json" "$here/package-lock.json" "$here/README.md" "$lib/"
[ -d "$here/docs" ] && cp -a "$here/docs" "$lib/"
if [ -z "$dest" ]; then
  say "production dependencies (npm ci --omit=dev; better-sqlite3 and serialport build natively when no prebuilt binary fits)"
  (cd "$lib" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
fi

# where each command lives in dist/: the technician CLI in cli/, the daemon in daemon/bin/
entry() { case "$1" in dcud) echo daemon/bin/dcud ;; *) echo "cli/$1" ;; esac; }
for bin in dcu dcud; do
  printf '#!/bin/sh\nexec %s /usr/lib/dcu/dist/%s.js "$@"\n' "$node" "$(entry "$bin")" > "$dest/usr/bin/$bin"
  chmod 0755 "$dest/usr/bin/$bin"
done
# the unit names /usr/bin/node; point it at the node found here when it lives elsewhere
sed "s#^ExecStart=/usr/bin/node #ExecStart=$node #" "$here/systemd/dcud.service" > "$unitdir/dcud.service"
chmod 0644 "$unitdir/dcud.service"
install -m 0644 "$here/systemd/dcu.sysusers.conf" "$dest/usr/lib/sysusers.d/dcu.conf"

if [ -z "$dest" ]; then
  systemd-sysusers /usr/lib/sysusers.d/dcu.conf
fi
conf="$dest/etc/dcu/dcu.yaml"
if [ -e "$conf" ]; then
  say "keeping the existing $conf"
else
  "$node" "$here/dist/cli/dcu.js" config example > "$conf"
  chmod 0640 "$conf"
  [ -z "$dest" ] && chown root:dcu "$conf" "$dest/etc/dcu" && chmod 0750 "$dest/etc/dcu"
  say "wrote $conf from \`dcu config example\`: set the lines, meters and mqtt sections"
fi
# The key-encryption key of the store's meter secrets as an encrypted systemd credential
# (README "Secrets at rest"), made once; not when dcud already seals with a key it generated.
cred=/etc/credstore.encrypted/dcu-kek
if [ -z "$dest" ] && [ ! -e "$cred" ] && [ ! -e /var/lib/dcu/dcu-kek ] && command -v systemd-creds >/dev/null; then
  install -d -m 0700 /etc/credstore.encrypted
  if "$node" -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("hex"))' | systemd-creds encrypt --name=dcu-kek - "$cred"; then
    say "made the key-encryption key $cred (systemd-creds; LoadCredentialEncrypted= in the unit)"
  else
    rm -f "$cred"
    say "systemd-creds could not encrypt a key-encryption key: dcud will generate one in /var/lib/dcu (weaker, see README)"
  fi
fi
if [ -z "$dest" ]; then
  systemctl daemon-reload
  say "done. Check the configuration with: dcu config check /etc/dcu/dcu.yaml"
  say "then start it at boot and now: systemctl enable --now dcud   (logs: journalctl -u dcud -f)"
fi
