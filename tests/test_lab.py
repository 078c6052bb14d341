"""`make lab` starts headless (LAB_ARGS) and serves JupyterLab on notebooks/ — checked the way a script would.

The checks talk to the lab on loopback with an opener that has no proxy: a lab room's ``http_proxy`` must not
see (or swallow) them, and the test must fail, not hang, when the lab does not answer.
"""
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "jupyter").exists(), reason="needs the project's .venv")
def test_make_lab_starts_headless(tmp_path):
    port = _free_port()
    env = {**os.environ, "JUPYTER_DATA_DIR": str(tmp_path / "data"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    args = f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token=testtoken"
    log_path = tmp_path / "lab.log"
    with log_path.open("wb") as log:  # a file, not a pipe: nothing blocks on the live lab's output
        proc = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def get(path: str) -> dict:
        with DIRECT.open(f"http://127.0.0.1:{port}/{path}?token=testtoken", timeout=5) as r:
            return json.load(r)

    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                listing = get("api/contents")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("lab did not start:\n" + log_path.read_text(errors="replace")[-3000:])
                time.sleep(1)
        names = {item["name"] for item in listing["content"]}
        assert any(n.endswith(".ipynb") for n in names), names  # serving notebooks/
        spec = json.loads((ROOT / ".venv" / "share" / "jupyter" / "kernels" / "python3" / "kernel.json").read_text())
        assert spec["argv"][0] == str(ROOT / ".venv" / "bin" / "python")  # the notebooks' python3 is the venv's
        # lab/overrides.json, installed by make lab: no news prompt, no news fetch, no update check (offline rooms)
        notification = get("lab/api/settings/@jupyterlab/apputils-extension:notification")["schema"]["properties"]
        assert notification["fetchNews"]["default"] == "false"
        assert notification["checkForUpdates"]["default"] is False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)
