import pytest

import vqlab


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
