"""Fixtures for the browser test: a headless JupyterLab on a copy of notebooks/ and a Chromium page.

Everything started here is stopped in the fixtures' ``finally`` blocks: the JupyterLab process group
(server and kernels) and the browser.
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab_server import REPO, Lab  # tests/browser/lab_server.py (pytest puts this folder on sys.path)

# The browser extra (Playwright) is absent where only the unit tests' extras are installed (pip install ".[test]"):
# the unit run then skips this folder instead of failing to import it; `make test-browser` installs the extra.
collect_ignore = [] if importlib.util.find_spec("playwright") else ["test_browser_lab.py"]
CHROMIUM = os.environ.get("VQLAB_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# The JupyterLab settings `make lab` installs (Makefile: lab/overrides.json -> <venv>/share/jupyter/lab/settings).
LAB_OVERRIDES = REPO / "lab" / "overrides.json"
INSTALLED_OVERRIDES = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
# Test-only user settings: every cell in the DOM (no windowing, so off-screen widgets can be found and
# driven). The news prompt stays off through lab/overrides.json, as in a student's lab.
TEST_USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Iterator[Lab]:
    """JupyterLab (headless, loopback, random token) serving a temporary copy of notebooks/."""
    if not INSTALLED_OVERRIDES.is_file() or (json.loads(INSTALLED_OVERRIDES.read_text())
                                             != json.loads(LAB_OVERRIDES.read_text())):
        pytest.fail(f"{INSTALLED_OVERRIDES} is missing or differs from {LAB_OVERRIDES}: "
                    "run `make test-browser` (or `make lab`), which installs the lab settings")
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    shutil.copytree(REPO / "notebooks", root)
    for name, value in TEST_USER_SETTINGS.items():
        (base / "user-settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (base / "user-settings" / name).write_text(json.dumps(value))
    env = dict(os.environ, JUPYTER_DATA_DIR=str(base / "data"), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(base / "user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
               PYTHONPATH=os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    port, token = _free_port(), secrets.token_hex(16)
    args = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.token={token}", f"--notebook-dir={root}", "--ServerApp.port_retries=0",
            "--LabApp.expose_app_in_browser=True"]   # window.jupyterapp: the test opens notebooks with its commands
    if os.geteuid() == 0:
        args.append("--allow-root")
    log = (base / "jupyterlab.log").open("w")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        server = Lab(url=f"http://127.0.0.1:{port}/", token=token, root=root)
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}; log: {base / 'jupyterlab.log'}")
            try:
                server.api("api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within 120 s; log: {base / 'jupyterlab.log'}")
                time.sleep(0.5)
        yield server
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium driven by Playwright (the system Chromium; no browser download)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium) or set VQLAB_CHROMIUM")
    with sync_playwright() as pw:
        # --no-proxy-server: the page talks to JupyterLab on loopback, never through a proxy from the environment
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--no-proxy-server"])
        try:
            yield chromium
        finally:
            chromium.close()
