"""The certificate of data-parallel training (vqlab.distributed, ``train`` under torch.distributed).

CPU, ``gloo``, loopback, W spawned processes. For every quantizer below, one run of 100 steps:

* replica consistency: after every optimizer step every rank holds bit-identical parameters, codebook,
  EMA statistics, counters and quantizer generator state (a callback gathers them from all ranks);
* equivalence: W = 1, 2, 4 ranks with the global batch B (B/W rows each; the data size leaves a last batch
  that splits unequally over 4 ranks) end with the same weights and codebook as one process with batch B,
  within 1e-6 relative, in float64 (so that a different summation order cannot flip an assignment).

``python tests/test_distributed.py`` prints the equivalence table (world size -> max relative difference).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from vqlab import distributed
from vqlab.data import load_digits
from vqlab.models import build_vqvae
from vqlab.quantizers import FSQuantizer, PosteriorQuantizer, VectorQuantizer
from vqlab.train import train

#: name -> quantizer (K = 16 codes of D = 3, or FSQ's 27); every one trains inside the same small MLP VQ-VAE.
CASES = {
    "hard VQ, EMA": lambda: VectorQuantizer(16, 3, codebook_update="ema", seed=0),
    "hard VQ, EMA, k-means++": lambda: VectorQuantizer(16, 3, codebook_update="ema", init="kmeans++", seed=0),
    "hard VQ, EMA, k-means++, dead-code restart": lambda: VectorQuantizer(16, 3, codebook_update="ema",
                                                                          init="kmeans++", restart_after=10, seed=0),
    "hard VQ, gradient codebook": lambda: VectorQuantizer(16, 3, seed=0),
    "neural gas, EMA": lambda: PosteriorQuantizer(16, 3, posterior="neural_gas", lam=2.0, lam_final=0.1,
                                                   lam_steps=100, codebook_update="ema", seed=0),
    "FSQ": lambda: FSQuantizer((3, 3, 3)),
}
WORLD_SIZES = (1, 2, 4)
STEPS, BATCH, ROWS = 100, 24, 102     # 102 = 4 * 24 + 6: the last batch of an epoch splits 2, 2, 1, 1 over 4 ranks


def _data() -> torch.Tensor:
    return load_digits().x_train[:ROWS].double()


def _model(case: str) -> torch.nn.Module:
    return build_vqvae(CASES[case](), in_dim=64, hidden=(16,), seed=0).double()


def _train(model: torch.nn.Module, callbacks=()) -> None:
    train(model, _data(), steps=STEPS, batch_size=BATCH, lr=3e-3, seed=0, progress=False, device="cpu",
          callbacks=callbacks)


def _replica_state(model: torch.nn.Module) -> torch.Tensor:
    """Every parameter, buffer (codebook, EMA statistics, counters) and the quantizer's generator state."""
    parts = [t.detach().reshape(-1).double() for t in model.state_dict().values()]
    generator = getattr(model.quantizer, "generator", None)
    if generator is not None:
        parts.append(generator.get_state().double())
    return torch.cat(parts)


def _rank_main(rank: int, world: int, store: str, out: str, cases: tuple[str, ...]) -> None:
    """One rank: train the cases under a gloo process group, checking replicas after every step."""
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        for i, case in enumerate(cases):
            model, differing = _model(case), []

            def check(model: torch.nn.Module, step: int) -> dict[str, float]:
                state = _replica_state(model)
                everyone = [torch.empty_like(state) for _ in range(world)]
                dist.all_gather(everyone, state)
                if not all(torch.equal(other, state) for other in everyone):
                    differing.append(step)
                return {}

            _train(model, callbacks=[check])
            if rank == 0:
                torch.save({"state": model.state_dict(), "differing": differing}, Path(out) / f"{i}.pt")
    finally:
        dist.destroy_process_group()


def run_world(world: int, cases: tuple[str, ...] = tuple(CASES)) -> list[dict]:
    """Train the cases on ``world`` spawned gloo ranks; rank 0's final state and the steps where replicas
    differed, per case."""
    with tempfile.TemporaryDirectory() as tmp:
        mp.start_processes(_rank_main, args=(world, str(Path(tmp) / "store"), tmp, cases), nprocs=world,
                           join=True, start_method="spawn")
        return [torch.load(Path(tmp) / f"{i}.pt") for i in range(len(cases))]


def relative_difference(state: dict, reference: dict) -> float:
    """``max |a - b| / max |b|`` of the worst tensor of two state dicts (weights, codebook, EMA statistics;
    the integer counters too, where any difference is at least ``1 / max |b|``)."""
    worst = 0.0
    for name, b in reference.items():
        a, b = state[name].double(), b.double()
        worst = max(worst, float((a - b).abs().max() / b.abs().max().clamp_min(1e-300)))
    return worst


def _closest_codewords(log: list[float]):
    """A callback logging the smallest distance between two codewords after every step."""
    def closest(model: torch.nn.Module, step: int) -> dict[str, float]:
        w = model.quantizer.codebook.detach()
        log.append(float(torch.pdist(w).min()))
        return {}
    return closest


@pytest.fixture(scope="module")
def serial() -> list[dict]:
    """One process, batch B, no process group: the reference (final state, closest codewords per step)."""
    assert not distributed.is_active()
    runs = []
    for case in CASES:
        model, closest = _model(case), []
        _train(model, callbacks=[_closest_codewords(closest)])
        runs.append({"state": model.state_dict(), "closest": closest})
    return runs


@pytest.mark.distributed
@pytest.mark.parametrize("world", WORLD_SIZES)
def test_data_parallel_is_the_serial_run(world, serial):
    results = run_world(world)
    for case, result, reference in zip(CASES, results, serial):
        assert result["differing"] == [], f"{case}: replicas differ after steps {result['differing'][:5]}"
        assert relative_difference(result["state"], reference["state"]) < 1e-6, case


def test_the_cases_certify_what_they_name(serial):
    """The restart case restarts codes (without restarts, the same run ends elsewhere), and no two codewords
    ever coincide: a dead-code restart draws with replacement, and two codes restarted onto the same vector
    tie exactly, a tie that the rounding of a batch of B or B/W rows may break either way."""
    cases = list(CASES)
    with_restarts = serial[cases.index("hard VQ, EMA, k-means++, dead-code restart")]["state"]
    without = serial[cases.index("hard VQ, EMA, k-means++")]["state"]
    assert relative_difference(with_restarts, without) > 1e-2
    for case, run in zip(CASES, serial):
        assert min(run["closest"]) > 1e-6, case


def test_single_process_path_makes_no_collective_calls(monkeypatch):
    """Without a process group the quantizers and train never reach torch.distributed."""
    def refuse(*args, **kwargs):
        raise AssertionError("a collective was called without a process group")

    for name in ("all_reduce", "all_gather", "broadcast"):
        monkeypatch.setattr(dist, name, refuse)
    model = _model("hard VQ, EMA, k-means++, dead-code restart")
    _train(model)


def test_shard_splits_the_global_batch_in_order():
    batch = torch.arange(10)
    part, share = distributed.shard(batch)
    assert torch.equal(part, batch) and share == 1.0


if __name__ == "__main__":
    reference = []
    for case in CASES:
        model = _model(case)
        _train(model)
        reference.append(model.state_dict())
    table = {world: run_world(world) for world in WORLD_SIZES}
    print(f"{'quantizer':34s}" + "".join(f"{'W=' + str(w):>12s}" for w in WORLD_SIZES) + "   replicas")
    for i, case in enumerate(CASES):
        diffs = "".join(f"{relative_difference(table[w][i]['state'], reference[i]):12.1e}" for w in WORLD_SIZES)
        same = all(table[w][i]["differing"] == [] for w in WORLD_SIZES)
        print(f"{case:34s}{diffs}   {'bit-identical every step' if same else 'DIFFER'}")
    sys.exit(0)
