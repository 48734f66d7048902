"""Browser smoke test: the course as an attendee meets it, in JupyterLab in a real browser.

Starts JupyterLab (free port, token, temporary folder holding a copy of a course notebook),
opens the notebook in headless Debian Chromium driven by Playwright, runs its first code cell
(the setup cell) and checks that the device summary of ``course_utils.device.describe()`` is
printed. The screenshot is kept in ``artifacts/browser/`` (also when the test fails).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from browser_helpers import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    KERNEL_IDLE,
    NO_CHROMIUM,
    SERVER_START_S,
    free_port,
    run_cell,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM),
]
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed: pip install -e '.[test]'")
MODE = os.environ.get("COURSE_MODE", "quick")
KERNEL_START_S = 120
CELL_OUTPUT_S = 240  # the first run verifies the data mirror and imports torch


def _course_notebook(folder: Path) -> Path:
    """A notebook holding the course's setup cell, rendered from the one template.

    (02_svm's own setup, which fetches no data, so the test never waits on a download.)
    """
    from course_utils.authoring.setup_cell import render_setup_cell

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(render_setup_cell("02_svm", []))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / "setup.ipynb"
    nbformat.write(nb, path)
    return path


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path) -> None:
    """Poll JupyterLab's status API until it answers; fail with its log if it dies or hangs."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                json.load(response)
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A JupyterLab server on a free port, isolated from the user's Jupyter config and kernels.

    Yields the notebook's URL (with token) and the notebook path.
    """
    work = tmp_path / "work"
    work.mkdir()
    notebook = _course_notebook(work)
    port, token = free_port(), os.urandom(16).hex()
    labconfig = tmp_path / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    # No "get Jupyter news?" pop-up over the screenshot (it would also try the network).
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_DATA_DIR": str(tmp_path / "data"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "COURSE_MODE": MODE}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={work}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = tmp_path / "jupyterlab.log"
    with log.open("w") as log_file:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log_file,
                                stderr=subprocess.STDOUT)
    try:
        _wait_for_server(f"http://127.0.0.1:{port}/api/status?token={token}", proc, log)
        yield f"http://127.0.0.1:{port}/lab/tree/{notebook.name}?token={token}", notebook
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, ARTIFACTS / "jupyterlab.log")


def test_setup_cell_prints_device_summary(jupyterlab: tuple[str, Path]) -> None:
    """Open the notebook, run its first code cell, and see the device summary in its output."""
    from course_utils import describe

    # The device sentence and the run-mode sentence, as the kernel (same machine) prints them.
    expected = describe(mode=MODE).splitlines()[:2]
    url, notebook = jupyterlab
    screenshot = ARTIFACTS / f"{notebook.stem}.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(url)
            # Run only once the kernel is connected and idle: a cell run while the session is
            # still starting is dropped silently (the prompt stays "[ ]") on a loaded machine.
            sync_api.expect(page.locator(KERNEL_IDLE)).to_be_visible(
                timeout=KERNEL_START_S * 1000)
            first_code = page.locator(".jp-Notebook .jp-CodeCell").first
            run_cell(page, first_code)
            output = first_code.locator(".jp-OutputArea")  # all of the cell's outputs
            sync_api.expect(output).to_contain_text("Run mode:",
                                                          timeout=CELL_OUTPUT_S * 1000)
            text = output.all_inner_texts()
        finally:
            page.screenshot(path=str(screenshot), full_page=True)
            browser.close()
    summary = "\n".join(text)
    assert "Traceback" not in summary, summary
    for line in expected:
        assert line in summary, f"expected {line!r} in the setup cell's output:\n{summary}"
    assert screenshot.stat().st_size > 10_000, "the screenshot is empty"
