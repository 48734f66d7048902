#!/usr/bin/env bash
# Install Debian's Chromium for the browser smoke test (tests/test_browser.py).
# Idempotent and quiet: does nothing when /usr/bin/chromium is already there. Playwright's own
# browser download is not used (it fails on machines that only reach the package mirrors).
# Where it can't be installed (no root nor passwordless sudo, no apt-get, Ubuntu's snap-only
# Chromium) it only says how to install it and exits 0: the browser test then skips with that
# reason instead of failing the whole suite.
set -euo pipefail
source "$(dirname "$0")/apt_install.sh"

CHROMIUM=/usr/bin/chromium

if [ -x "${CHROMIUM}" ]; then
    exit 0
fi
if apt_install chromium "the browser test will be skipped (it needs ${CHROMIUM})"; then
    "${CHROMIUM}" --version
fi
