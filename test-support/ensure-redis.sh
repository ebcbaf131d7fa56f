#!/usr/bin/env bash
# Tests that need Redis start their own redis-server on a free port; it comes from Debian's
# package, installed here when this machine does not have it yet.
command -v redis-server >/dev/null 2>&1 && exit 0
echo "installing redis-server (Debian package) for the tests" >&2
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
else
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
