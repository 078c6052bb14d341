"""``compare(..., executor=)``: the trials side by side give the serial numbers bit for bit, and a failed
trial is reported with its name and seed while the others are kept (issue 28)."""
from __future__ import annotations

import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from vqlab.data import load_digits
from vqlab.experiments import Comparison, compare, dask_executor
from vqlab.models import build_vqvae
from vqlab.quantizers import VectorQuantizer
from vqlab.zoo import TABLE_STYLE, ZooConfig, compare_bottlenecks, main

#: a zoo small enough for a test: 20 steps of a 16-unit MLP, two bottlenecks, two seeds.
TINY = ZooConfig(latent_dim=4, hidden=(16,), num_codes=8, steps=20, n_init=2)
ZOO = {"seeds": (0, 1), "bottlenecks": ("ae", "vq"), "config": TINY, "include_raw": False, "device": "cpu"}
ZOO_ARGS = ["--seeds", "0", "1", "--bottlenecks", "ae", "vq", "--latent-dim", "4", "--hidden", "16",
            "--num-codes", "8", "--steps", "20", "--n-init", "2", "--device", "cpu"]


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def serial(digits) -> Comparison:
    return compare_bottlenecks(digits, **ZOO)


def _tiny_vqvae(seed: int):
    return build_vqvae(VectorQuantizer(8, 4, seed=seed), hidden=(16,), seed=seed)


def _fails_for_seed_1(seed: int):
    if seed == 1:
        raise ValueError("no model for seed 1")
    return _tiny_vqvae(seed)


def _same(result: Comparison, serial: Comparison) -> None:
    assert result.values == serial.values          # floats compared exactly: bit for bit
    assert result.table(**TABLE_STYLE) == serial.table(**TABLE_STYLE)
    assert result.failures == {}
    assert [t.seed for t in result.trials["vq"]] == [0, 1]


@pytest.mark.distributed
def test_process_pool_gives_the_serial_table(digits, serial):
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        _same(compare_bottlenecks(digits, **ZOO, executor=pool), serial)


@pytest.mark.distributed
def test_dask_local_cluster_gives_the_serial_table(digits, serial):
    pytest.importorskip("dask.distributed")
    with dask_executor(workers=2) as executor:
        _same(compare_bottlenecks(digits, **ZOO, executor=executor), serial)


@pytest.mark.distributed
def test_zoo_command_line_with_workers_prints_the_serial_table(capsys):
    pytest.importorskip("dask.distributed")
    assert main([*ZOO_ARGS, "--workers", "2"]) == main(ZOO_ARGS)
    assert capsys.readouterr().out.count("The paper (MNIST, Table 1)") == 2


@pytest.mark.distributed
def test_zoo_under_torchrun_prints_one_table_close_to_the_serial_one():
    """Two gloo ranks split every batch; in float32 the numbers agree with the serial run up to rounding
    that may move a printed digit, so the test checks the run and the shape of its output."""
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          "-m", "vqlab.zoo", *ZOO_ARGS], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("The paper (MNIST, Table 1)") == 1          # rank 0 alone prints
    assert "VQ-VAE" in run.stdout and "Baseline autoencoder" in run.stdout


def test_a_failed_trial_is_reported_and_the_others_kept(digits):
    x, x_test = digits.x_train[:256], digits.x_test[:64]
    variants = {"ok": _tiny_vqvae, "bad": _fails_for_seed_1}
    with ThreadPoolExecutor(1) as pool, pytest.warns(RuntimeWarning, match="bad seed 1: ValueError"):
        result = compare(variants, x, x_test, seeds=(0, 1, 2), steps=3, device="cpu", executor=pool)
    assert result.failures == {"bad": {1: "ValueError: no model for seed 1"}}
    assert result.seeds_of("bad") == (0, 2) and result.seeds_of("ok") == (0, 1, 2)
    assert [t.seed for t in result.trials["bad"]] == [0, 2]
    assert len(result.values["bad"]["recon"]) == 2 and len(result.values["ok"]["recon"]) == 3
    assert result.table().splitlines()[-1] == "failed, left out: bad seed 1 (ValueError: no model for seed 1)"
    ok, bad = result.values["ok"]["recon"], result.values["bad"]["recon"]
    pairs = result.paired("ok", "bad", "recon").differences
    assert list(pairs) == [ok[0] - bad[0], ok[2] - bad[1]]             # seed 0 with 0, seed 2 with 2
    with pytest.raises(ValueError, match="no model for seed 1"):       # serial: an error stops the run
        compare(variants, x, x_test, seeds=(0, 1), steps=3, device="cpu")


def test_paired_pairs_by_seed_around_failures(tmp_path):
    c = Comparison({"a": {"x": [1.0, 2.0, 4.0]}, "b": {"x": [3.0, 5.0]}}, (0, 1, 2), failures={"b": {1: "E: x"}})
    assert list(c.paired("a", "b", "x").differences) == [1.0 - 3.0, 4.0 - 5.0]
    assert list(c.paired("b", "a", "x").differences) == [3.0 - 1.0, 5.0 - 4.0]
    assert c.mean("b", "x") == 4.0
    back = Comparison.load(c.save(tmp_path / "c.json"))
    assert back.failures == c.failures and back.seeds_of("b") == (0, 2)
    assert c.subset(["b"]).failures == {"b": {1: "E: x"}}


def test_no_executor_runs_as_before(digits):
    """The serial path: values per seed in order, and the models trained here (no copies)."""
    x, x_test = digits.x_train[:256], digits.x_test[:64]
    result = compare({"ok": _tiny_vqvae}, x, x_test, seeds=(0, 1), steps=3, device="cpu")
    assert result.failures == {} and result.seeds_of("ok") == (0, 1)
    again = compare({"ok": _tiny_vqvae}, x, x_test, seeds=(1,), steps=3, device="cpu")
    assert again.values["ok"]["recon"] == result.values["ok"]["recon"][1:]
