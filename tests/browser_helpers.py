"""What the browser tests share: Debian's Chromium for Playwright on a closed network, free
ports, and running a notebook cell the way a user does (tests/test_browser.py, test_hub.py)."""

from __future__ import annotations

from pathlib import Path

from course_utils.hub.rehearsal import free_port  # noqa: F401 (shared with the tests)

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = (f"{CHROMIUM} is missing: run scripts/install_browser.sh (Debian's chromium "
               "package) to enable the browser tests")
# Flags for a closed network: without the background-networking ones Chromium keeps trying to
# reach Google's services and floods the machine with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = ROOT / "artifacts" / "browser"
SERVER_START_S = 60
# The notebook toolbar's kernel indicator, once the kernel has started and answers.
KERNEL_IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"


def run_cell(page, cell, attempts: int = 3) -> None:
    """Run ``cell`` with Shift+Enter, as a user would, pressing again if the run was dropped.

    The prompt turns to "[*]" (queued or running) or "[1]" once the run is accepted. On a loaded
    machine JupyterLab sometimes drops the first run even with the kernel idle (seen in CI: the
    prompt stayed "[ ]" for 30 s); a user would press again, and so does this.
    """
    from playwright.sync_api import expect

    for attempt in range(1, attempts + 1):
        cell.locator(".jp-InputArea-editor").click(timeout=SERVER_START_S * 1000)
        page.keyboard.press("Shift+Enter")
        try:
            expect(cell.locator(".jp-InputPrompt")).not_to_have_text("[ ]:", timeout=20_000)
            return
        except AssertionError:
            if attempt == attempts:
                raise
