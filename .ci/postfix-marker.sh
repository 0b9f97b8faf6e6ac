#!/usr/bin/env bash
# Prints the path of the file that says Postfix was installed by .ci/install-postfix.sh for the tests
# (and so may be changed by the set-up); a Postfix without it is the machine's own and left alone.
echo /var/lib/sender-identity-tests/postfix-installed
