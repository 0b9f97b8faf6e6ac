#!/usr/bin/env bash
# Exits 0 (and says how) when the Postfix package's default instance would start at boot: a systemd
# unit that is enabled, or SysV start links. Exits 1 when it would not (or Postfix is not there).
# .ci/setup uses it to skip work already done; .ci/run checks that the set-up left the Postfix it
# installed disabled.
set -uo pipefail
found=1
if command -v systemctl >/dev/null 2>&1 && [ "$(systemctl is-enabled postfix.service 2>/dev/null)" = enabled ]; then
  echo "systemd: postfix.service is enabled"
  found=0
fi
for link in /etc/rc[2-5].d/S*postfix; do
  if [ -e "$link" ]; then
    echo "SysV: $link"
    found=0
  fi
done
exit "$found"
