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
