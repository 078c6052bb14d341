"""`make lab` starts headless (LAB_ARGS) and serves JupyterLab on notebooks/ — checked the way a script would."""
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "jupyter").exists(), reason="needs the project's .venv")
def test_make_lab_starts_headless(tmp_path):
    port = _free_port()
    env = {**os.environ, "JUPYTER_DATA_DIR": str(tmp_path / "data"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    args = f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token=testtoken"
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 90
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/contents?token=testtoken"
                with urllib.request.urlopen(url, timeout=5) as r:
                    listing = json.load(r)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise AssertionError("lab did not start:\n" + proc.stdout.read().decode()[-3000:])
                time.sleep(1)
        names = {item["name"] for item in listing["content"]}
        assert any(n.endswith(".ipynb") for n in names), names  # serving notebooks/
        spec = json.loads((ROOT / ".venv" / "share" / "jupyter" / "kernels" / "python3" / "kernel.json").read_text())
        assert spec["argv"][0] == str(ROOT / ".venv" / "bin" / "python")  # the notebooks' python3 is the venv's
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)
