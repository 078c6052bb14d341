import gzip
import struct

import numpy as np
import pytest
import torch

from vqlab.data import TOY_SETS, load_digits, load_fashion_mnist, load_mnist, make_toy, read_idx


def test_load_digits_split_and_range(no_network):
    d = load_digits()
    assert d.x_train.shape == (1347, 64) and d.x_test.shape == (450, 64)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    assert d.images(d.x_train).shape == (1347, 1, 8, 8)
    assert set(d.y_test.tolist()) == set(range(10))
    again = load_digits()
    assert torch.equal(d.x_train, again.x_train)  # fixed split


def test_load_digits_bad_fraction():
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits(test_fraction=0)


@pytest.mark.parametrize("name", TOY_SETS)
def test_toy_sets(name):
    x, y = make_toy(name, n=100, noise=0.1, seed=3)
    assert x.shape == (100, 2) and y.shape == (100,)
    assert torch.equal(x, make_toy(name, n=100, noise=0.1, seed=3)[0])
    assert torch.isfinite(x).all()


def test_toy_bad_arguments():
    with pytest.raises(ValueError, match="name"):
        make_toy("spiral")
    with pytest.raises(ValueError, match="noise"):
        make_toy("blobs", noise=-1)
    with pytest.raises(ValueError, match="n must"):
        make_toy("blobs", n=1)


def _idx_bytes(array: np.ndarray) -> bytes:
    code = {np.uint8: 0x08}[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.tobytes()


def _write_mnist(root, n_train=5, n_test=3, gz=False, h=4, w=4):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, h, w), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, h, w), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    root.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        data = _idx_bytes(arr)
        if gz:
            with gzip.open(root / (name + ".gz"), "wb") as f:
                f.write(data)
        else:
            (root / name).write_bytes(data)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_roundtrip(tmp_path, gz):
    arrays = _write_mnist(tmp_path, gz=gz)
    suffix = ".gz" if gz else ""
    got = read_idx(tmp_path / ("train-images-idx3-ubyte" + suffix))
    assert np.array_equal(got, arrays["train-images-idx3-ubyte"])


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_folder(tmp_path, loader, gz, no_network):
    arrays = _write_mnist(tmp_path, gz=gz)
    with pytest.raises(ValueError, match="SHA-256|only the published"):  # synthetic files are not the published ones
        loader(tmp_path)
    with pytest.warns(UserWarning, match="verify=False"):
        d = loader(tmp_path, verify=False)
    assert d.x_train.shape == (5, 16) and d.x_test.shape == (3, 16) and d.image_shape == (4, 4)
    assert torch.allclose(d.x_train, torch.tensor(arrays["train-images-idx3-ubyte"].reshape(5, 16) / 255.0,
                                                  dtype=torch.float32))
    assert d.y_test.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()


@pytest.mark.filterwarnings("ignore:verify=False")
def test_truncated_idx_is_reported(tmp_path):
    _write_mnist(tmp_path)
    f = tmp_path / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-7])
    with pytest.raises(ValueError, match="truncated"):
        load_mnist(tmp_path, verify=False)


@pytest.mark.filterwarnings("ignore:verify=False")
def test_wrong_magic_is_reported(tmp_path):
    _write_mnist(tmp_path)
    f = tmp_path / "train-labels-idx1-ubyte"
    f.write_bytes(b"\x12\x34" + f.read_bytes()[2:])
    with pytest.raises(ValueError, match="bad magic"):
        load_mnist(tmp_path, verify=False)


@pytest.mark.filterwarnings("ignore:verify=False")
def test_mismatched_labels_are_reported(tmp_path):
    _write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(ValueError, match="do not match"):
        load_mnist(tmp_path, verify=False)


def test_missing_files_say_where_to_put_them(tmp_path, no_network):
    with pytest.raises(FileNotFoundError) as err:
        load_mnist(tmp_path / "nothing")
    msg = str(err.value)
    assert str(tmp_path / "nothing") in msg and "train-images-idx3-ubyte" in msg and "load_digits" in msg


def test_download_offline_gives_clear_error(tmp_path, monkeypatch):
    import socket

    def offline(*args, **kwargs):
        raise OSError("no route to host")

    monkeypatch.setattr(socket, "create_connection", offline)  # every connection, to a mirror or a proxy
    with pytest.raises(FileNotFoundError, match="offline"):
        load_fashion_mnist(tmp_path, download=True)
