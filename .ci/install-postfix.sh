#!/usr/bin/env bash
# Installs Postfix non-interactively for tests/postfix_e2e.rs (Debian/Ubuntu, as root), and keeps
# the package's own instance from starting at boot. Safe to run again on a machine that has it.
# The test runs its own private instance (`postfix -c DIR`) on a free loopback port, so the
# package's default instance is left unconfigured ("No configuration": no /etc/postfix/main.cf),
# kept from starting while installing, and stopped if something started it anyway.
set -euo pipefail
MARKER=$(bash "$(dirname "$0")/postfix-marker.sh")
if [ -x /usr/sbin/postfix ]; then
  echo "postfix already installed"
else
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "postfix postfix/mailname string localhost" | debconf-set-selections
  # Keep the maintainer scripts from starting the default instance (invoke-rc.d honours it).
  created_policy_rc=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy_rc=yes
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postfix
  if [ "$created_policy_rc" = yes ]; then rm -f /usr/sbin/policy-rc.d; fi
  # Remember that Postfix is here for the tests, so that only such an install is ever changed below.
  mkdir -p "$(dirname "$MARKER")"
  echo "installed by sender-identity's .ci/install-postfix.sh for tests/postfix_e2e.rs" > "$MARKER"
fi
# The package enables its default instance at boot (systemd unit and SysV links): the tests never
# use it, so a machine where the set-up installed it must not start a mail server when it next
# boots. A Postfix that was there before (a real mail server) is left exactly as it is.
if [ -e "$MARKER" ]; then
  if command -v systemctl >/dev/null 2>&1; then
    systemctl disable postfix.service >/dev/null 2>&1 || true
  fi
  if command -v update-rc.d >/dev/null 2>&1 && [ -e /etc/init.d/postfix ]; then
    update-rc.d postfix disable >/dev/null 2>&1 || true
  fi
fi
# If a default instance runs anyway (e.g. started by systemd), stop it: the test does not need
# port 25, and a running default instance must not take the test's mail.
if [ -e "$MARKER" ] && [ -f /etc/postfix/main.cf ] && /usr/sbin/postfix status >/dev/null 2>&1; then
  /usr/sbin/postfix stop || true
fi
# The test needs these (created by the package).
id postfix >/dev/null
getent group postdrop >/dev/null
/usr/sbin/postconf -d mail_version
