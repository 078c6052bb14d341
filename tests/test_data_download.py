"""Verified downloads: a local HTTP server serves good, corrupted and truncated IDX files."""
import gzip
import hashlib
import http.server
import struct
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from vqlab import data
from vqlab.data import load_fashion_mnist, load_mnist

STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _gz_idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


def _files() -> dict[str, bytes]:
    rng = np.random.default_rng(1)
    arrays = (rng.integers(0, 256, (6, 3, 3), dtype=np.uint8), rng.integers(0, 10, 6, dtype=np.uint8),
              rng.integers(0, 256, (2, 3, 3), dtype=np.uint8), rng.integers(0, 10, 2, dtype=np.uint8))
    return {stem + ".gz": _gz_idx(a) for stem, a in zip(STEMS, arrays)}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served(tmp_path, monkeypatch):
    """``(good, urls)``: the good files (whose digests are the checksum table of both datasets) and base
    URLs on 127.0.0.1 serving them ("good/"), a copy with one flipped byte per file ("corrupt/") and
    a copy missing its last 10 bytes ("truncated/")."""
    good = _files()
    www = tmp_path / "www"
    for kind, change in (("good", lambda b: b), ("corrupt", lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:]),
                         ("truncated", lambda b: b[:-10])):
        (www / kind).mkdir(parents=True)
        for name, blob in good.items():
            (www / kind / name).write_bytes(change(blob))
    table = {name: hashlib.sha256(blob).hexdigest() for name, blob in good.items()}
    monkeypatch.setitem(data.CHECKSUMS, "mnist", table)
    monkeypatch.setitem(data.CHECKSUMS, "fashion-mnist", table)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    yield good, {kind: base + kind + "/" for kind in ("good", "corrupt", "truncated")}
    server.shutdown()
    server.server_close()
    thread.join()


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.endswith(".part"))


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_good_download_is_verified_and_loads(tmp_path, served, loader):
    good, urls = served
    root = tmp_path / "data"
    d = loader(root, download=True, mirror=urls["good"])
    assert {p.name for p in root.iterdir()} == set(good)
    assert all((root / name).read_bytes() == blob for name, blob in good.items())
    assert d.x_train.shape == (6, 9) and d.x_test.shape == (2, 9) and d.y_train.dtype == torch.int64
    again = loader(root)  # now on disk: checked again, no download
    assert torch.equal(again.x_train, d.x_train)


@pytest.mark.parametrize("kind", ["corrupt", "truncated"])
def test_bad_download_is_rejected_and_leaves_nothing(tmp_path, served, kind):
    good, urls = served
    root = tmp_path / "data"
    root.mkdir()
    keep = root / "train-images-idx3-ubyte.gz"
    keep.write_bytes(good[keep.name])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz: SHA-256 mismatch") as err:
        load_mnist(root, download=True, mirror=urls[kind])
    expected = data.CHECKSUMS["mnist"]["train-labels-idx1-ubyte.gz"]
    served_blob = (tmp_path / "www" / kind / "train-labels-idx1-ubyte.gz").read_bytes()
    assert expected in str(err.value) and hashlib.sha256(served_blob).hexdigest() in str(err.value)
    assert _leftovers(root) == []
    assert sorted(p.name for p in root.iterdir()) == [keep.name]
    assert keep.read_bytes() == good[keep.name]


def test_failed_download_leaves_an_existing_file_untouched(tmp_path, served):
    good, urls = served
    dest = tmp_path / "train-images-idx3-ubyte.gz"
    dest.write_bytes(good[dest.name])
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        data._download(urls["corrupt"] + dest.name, dest, data.CHECKSUMS["mnist"][dest.name])
    assert dest.read_bytes() == good[dest.name] and _leftovers(tmp_path) == []


def test_bad_file_on_disk_is_rejected(tmp_path, served):
    good, _ = served
    for name, blob in good.items():
        (tmp_path / name).write_bytes(blob)
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    blob = bad.read_bytes()
    bad.write_bytes(blob[:-5] + bytes([blob[-5] ^ 1]) + blob[-4:])  # one bit of the gzip CRC flipped
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz: SHA-256 mismatch"):
        load_mnist(tmp_path)
    with pytest.warns(UserWarning, match="verify=False"), pytest.raises(ValueError, match="corrupt gzip"):
        load_mnist(tmp_path, verify=False)  # not verified, but gzip still notices the damage


def test_verify_false_warns_and_loads_a_repacked_copy(tmp_path, served):
    good, _ = served
    for name, blob in good.items():  # decompressed: a repacked copy the digests cannot vouch for
        (tmp_path / name[:-3]).write_bytes(gzip.decompress(blob))
    with pytest.raises(ValueError, match="only the published .gz"):
        load_mnist(tmp_path)
    with pytest.warns(UserWarning, match="not checked"):
        d = load_mnist(tmp_path, verify=False)
    assert d.x_train.shape == (6, 9)


@pytest.mark.parametrize("url", ["http://example.com/mnist/", "ftp://127.0.0.1/", "file:///tmp/"])
def test_only_https_or_local_http(tmp_path, url, no_network):
    with pytest.raises(ValueError, match="https"):
        load_mnist(tmp_path, download=True, mirror=url)


def test_published_mirrors_are_https_and_every_file_has_a_digest():
    for name, bases in data.MIRRORS.items():
        assert bases and all(b.startswith("https://") for b in bases)
        assert sorted(data.CHECKSUMS[name]) == sorted(s + ".gz" for s in STEMS)
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in data.CHECKSUMS[name].values())


PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")


class _RefusingProxy(http.server.BaseHTTPRequestHandler):
    """A proxy that answers every request (a CONNECT for HTTPS) with 502 and remembers its request line."""

    seen: list[str] = []

    def do_CONNECT(self) -> None:
        self.seen.append(self.requestline)
        self.send_error(502, "no route from this proxy")

    do_GET = do_CONNECT

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def proxy(monkeypatch):
    """The proxy URL of a local :class:`_RefusingProxy`, set in all four proxy variables, ``no_proxy`` unset."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RefusingProxy)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, url)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    _RefusingProxy.seen.clear()
    yield url
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_mirror_on_this_machine_is_reached_without_the_proxy(tmp_path, served, proxy):
    good, urls = served
    d = load_mnist(tmp_path, download=True, mirror=urls["good"])
    assert d.x_train.shape == (6, 9) and _RefusingProxy.seen == []


def test_a_download_goes_through_the_users_proxy_and_a_failure_names_it(tmp_path, proxy):
    with pytest.raises(FileNotFoundError) as err:
        load_mnist(tmp_path, download=True, mirror="https://mirror.invalid/mnist/")
    (request,) = _RefusingProxy.seen  # the first file was tried once, through the proxy
    assert request.startswith("CONNECT mirror.invalid:443 ")
    assert f"(through the proxy {proxy})" in str(err.value) and f"The proxy {proxy}" in str(err.value)
    assert _leftovers(tmp_path) == []


def test_no_proxy_and_this_machine_bypass_the_proxy(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("no_proxy", "mirror.example")
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert data._proxy_for("https://other.example/mnist/a.gz") == "http://proxy.example:3128"
    assert data._proxy_for("https://mirror.example/mnist/a.gz") is None
    for host in ("127.0.0.1", "localhost", "[::1]"):
        assert data._proxy_for(f"http://{host}:8000/mnist/a.gz") is None
