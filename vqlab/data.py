"""Data: the embedded 8x8 digits (default, offline), toy 2-D point sets, and MNIST-style IDX loaders.

Everything a notebook needs by default ships with scikit-learn, so the lab runs with no network.
MNIST and Fashion-MNIST are read from IDX files in a cache folder; a download is attempted only when
asked for (``download=True``), and a missing file gives an error that says where to put it.
"""
from __future__ import annotations

import gzip
import os
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from vqlab._checks import check_choice, check_float, check_int

__all__ = ["ImageData", "load_digits", "make_toy", "TOY_SETS", "read_idx", "load_mnist",
           "load_fashion_mnist", "default_data_root"]


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
    sizes and the data. Raises ``ValueError`` naming the file if the magic is wrong or the file is
    truncated or too long.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
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
_MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}


def default_data_root() -> Path:
    """``$VQLAB_DATA`` if set, else ``~/.cache/vqlab``."""
    return Path(os.environ.get("VQLAB_DATA", Path.home() / ".cache" / "vqlab"))


def _find(root: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    return None


def _download(url: str, dest: Path) -> None:
    tmp = dest.with_suffix(dest.suffix + ".part")
    with urllib.request.urlopen(url, timeout=30) as r, open(tmp, "wb") as f:
        shutil.copyfileobj(r, f)
    tmp.replace(dest)


def _load_idx_dataset(name: str, root: str | Path | None, download: bool) -> ImageData:
    root = Path(root) if root is not None else default_data_root() / name
    missing = [s for s in _MNIST_FILES if _find(root, s) is None]
    if missing and download:
        root.mkdir(parents=True, exist_ok=True)
        try:
            for stem in missing:
                _download(_MIRRORS[name] + stem + ".gz", root / (stem + ".gz"))
        except OSError as err:
            raise FileNotFoundError(
                f"could not download {name} ({err}). This machine may be offline: copy the four files "
                f"{', '.join(s + '.gz' for s in _MNIST_FILES)} into {root} and call again.") from None
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


def load_mnist(root: str | Path | None = None, download: bool = False) -> ImageData:
    """MNIST (28x28, 60k train / 10k test) from IDX files in ``root`` (default
    ``default_data_root()/mnist``). ``download=True`` fetches missing files when online."""
    return _load_idx_dataset("mnist", root, download)


def load_fashion_mnist(root: str | Path | None = None, download: bool = False) -> ImageData:
    """Fashion-MNIST, same format and arguments as :func:`load_mnist`
    (default folder ``default_data_root()/fashion-mnist``)."""
    return _load_idx_dataset("fashion-mnist", root, download)
