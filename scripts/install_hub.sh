#!/usr/bin/env bash
# install_hub.sh VENV: install the class hub's proxy, configurable-http-proxy (npm), into VENV
# (VENV/bin/configurable-http-proxy, beside jupyterhub; deploy/hub/jupyterhub_config.py uses
# it). Idempotent and quiet: does nothing when the pinned version is there. Where it can't be
# installed (no npm and no way to get Debian's) it says how and exits 0: `make hub` then
# stops with that message and the hub tests (tests/test_hub.py) skip with it.
set -euo pipefail
source "$(dirname "$0")/apt_install.sh"

VENV="${1:-.venv}"
CHP_VERSION=5.3.0  # needs node >= 20
CHP="${VENV}/bin/configurable-http-proxy"

if [ -x "${CHP}" ] && [ "$("${CHP}" --version 2>/dev/null)" = "${CHP_VERSION}" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    apt_install npm "the class hub (make hub) and its tests need configurable-http-proxy" \
        || exit 0
fi
node_major="$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')"
if [ -z "${node_major}" ] || [ "${node_major}" -lt 20 ]; then
    echo "configurable-http-proxy ${CHP_VERSION} needs node >= 20 (found" \
         "'$(node --version 2>/dev/null || echo none)'): install a newer nodejs, then run" \
         "bash scripts/install_hub.sh ${VENV}; the hub tests will be skipped" >&2
    exit 0
fi
echo "installing configurable-http-proxy ${CHP_VERSION} into ${VENV} (one-time)..."
if ! npm install --global --prefix "${VENV}" --no-audit --no-fund --loglevel=error \
        "configurable-http-proxy@${CHP_VERSION}" >/dev/null; then
    echo "npm could not install configurable-http-proxy (no access to the npm registry?):" \
         "run bash scripts/install_hub.sh ${VENV} where it can; the hub tests will be" \
         "skipped" >&2
fi
