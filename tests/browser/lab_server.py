"""What the browser test's fixtures and tests share: the repository root and the running JupyterLab."""
from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The lab is on loopback: its API is asked directly, never through a proxy from http_proxy / https_proxy.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Lab:
    """A running JupyterLab: its base URL, token and the folder it serves (a copy of notebooks/)."""

    url: str
    token: str
    root: Path

    def api(self, path: str, method: str = "GET") -> object:
        """The JSON answer of the Jupyter server REST API at ``path`` (e.g. ``"api/sessions"``)."""
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with DIRECT.open(req, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body else None
