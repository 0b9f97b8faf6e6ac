#!/usr/bin/env bash
# Installs Postfix non-interactively for tests/postfix_e2e.rs.
# The test runs its own private instance (postfix -c DIR) on a loopback port;
# the package's default instance is stopped and kept from starting.
set -euo pipefail
if [ -x /usr/sbin/postfix ]; then
  echo "postfix already installed"
else
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "postfix postfix/mailname string localhost" | debconf-set-selections
  # Keep the package's maintainer scripts from starting the default instance.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postfix
  rm -f /usr/sbin/policy-rc.d
fi
# If the default instance is running anyway (e.g. started by systemd), stop it:
# the test uses its own config directory and does not need port 25.
if /usr/sbin/postfix status >/dev/null 2>&1; then
  /usr/sbin/postfix stop || true
fi
/usr/sbin/postconf -d mail_version
