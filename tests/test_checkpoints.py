"""Checkpoints: only tensors and plain types are written, and nothing else is ever unpickled (issue 15)."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from vqlab.train import History, load_checkpoint, save_checkpoint


class _LeavesAMark:
    """An object whose unpickling creates a marker file: the visible side effect we must never see."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_roundtrip_history_with_usage_arrays(tmp_path):
    model, fresh = nn.Linear(3, 2), nn.Linear(3, 2)
    h = History(steps={"loss": [1.0, 0.5]}, epochs={"loss": [0.7]}, usage=[np.array([3, 0, 1])])
    path = save_checkpoint(tmp_path / "m.pt", model, h)
    h2 = load_checkpoint(path, fresh)
    assert torch.equal(fresh.weight, model.weight)
    assert h2.steps == h.steps and h2.epochs == h.epochs
    np.testing.assert_array_equal(h2.usage[0], h.usage[0])


def test_pickled_object_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "unpickled_marker"
    model = nn.Linear(3, 2)
    evil = tmp_path / "evil.pt"
    torch.save({"model": model.state_dict(), "history": _LeavesAMark(marker), "optimizer": None}, evil)
    # the payload does work under a plain unpickler (so the test can fail) ...
    torch.load(evil, weights_only=False)
    assert marker.exists()
    marker.rmdir()
    # ... and load_checkpoint refuses it, names the file, and never runs it
    with pytest.raises(ValueError, match="evil.pt"):
        load_checkpoint(evil, nn.Linear(3, 2))
    assert not marker.exists()


def test_not_a_checkpoint_dict(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save([torch.zeros(2)], path)
    with pytest.raises(ValueError, match="plain.pt"):
        load_checkpoint(path, nn.Linear(3, 2))
