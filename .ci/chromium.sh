#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser tests (test/console/browser.test.ts), unless
# one is already there. Under CI=true those tests fail, not skip, without it.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium: $(chromium --version 2>/dev/null | head -1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "chromium: $(chromium --version 2>/dev/null | head -1)"
