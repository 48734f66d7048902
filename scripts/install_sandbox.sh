#!/usr/bin/env bash
# Install Debian's bubblewrap, the sandbox that `course-utils grade` runs submissions in
# (course_utils/grading/sandbox.py; tests/test_sandbox.py). Idempotent and quiet: does nothing
# when bwrap is already there. Where it can't be installed it says so and exits 0: grading then
# warns that submissions are not isolated, `course-utils doctor` says so, and the sandbox tests
# skip with that reason.
set -euo pipefail
source "$(dirname "$0")/apt_install.sh"

if command -v bwrap >/dev/null 2>&1; then
    exit 0
fi
if apt_install bubblewrap "grading will not isolate submissions"; then
    bwrap --version
fi
