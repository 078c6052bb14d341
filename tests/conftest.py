import pytest
from hypothesis import settings

import vqlab

# Property tests (tests/test_properties.py): few, reproducible examples, so the file stays fast and a
# failure shows up the same way on every machine; no example database written into the checkout.
settings.register_profile("vqlab", max_examples=25, deadline=None, derandomize=True, database=None)
settings.load_profile("vqlab")


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same global seed."""
    vqlab.seed_everything(0)
    yield


@pytest.fixture
def no_network(monkeypatch):
    """Make any attempt to open a socket fail loudly."""
    import socket

    def guard(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket, "create_connection", guard)
    yield


@pytest.fixture(scope="module")
def digits_model():
    """A small MLP VQ-VAE (K=16, D=4) trained 2 epochs on 256 digits, and 120 test digits."""
    from vqlab.data import load_digits
    from vqlab.models import build_vqvae
    from vqlab.quantizers import VectorQuantizer
    from vqlab.train import seed_everything, train

    seed_everything(0)
    data = load_digits()
    model = build_vqvae(VectorQuantizer(16, 4), hidden=(32,), seed=0)
    train(model, data.x_train[:256], epochs=2, batch_size=64, seed=0, progress=False)
    return model, data.x_test[:120]
