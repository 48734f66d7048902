#!/usr/bin/env bash
# Install Debian's bubblewrap, the sandbox that `course-utils grade` runs submissions in
# (course_utils/grading/sandbox.py; tests/test_sandbox.py). Idempotent and quiet: does nothing
# when bwrap is already there. Without root (and without passwordless sudo), or without apt-get,
# it only says how to install it and exits 0: grading then warns that submissions are not
# isolated, `course-utils doctor` says so, and the sandbox tests skip with that reason.
set -euo pipefail

if command -v bwrap >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "install_sandbox.sh: bubblewrap (bwrap) is missing and this user cannot run apt-get;" \
         "grading will not isolate submissions. To install it: sudo apt-get install bubblewrap" >&2
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_sandbox.sh: no apt-get here (not Debian/Ubuntu); install bubblewrap with your" \
         "package manager, or grading will not isolate submissions." >&2
    exit 0
fi

echo "install_sandbox.sh: installing Debian's bubblewrap..."
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show bubblewrap >/dev/null 2>&1; then
    "${SUDO[@]}" apt-get update -qq
fi
"${SUDO[@]}" apt-get install -y -qq bubblewrap >/dev/null
bwrap --version
