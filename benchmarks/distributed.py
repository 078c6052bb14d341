"""Benchmark: serial against parallel, the two ways of issue 28, each measured against its serial peer.

    .venv/bin/python benchmarks/distributed.py [--processes 2] [--workers 2]

1. **Data-parallel training** of the zoo's VQ-VAE (the default :class:`vqlab.zoo.ZooConfig`: MLP
   64-128-128-256-16, K = 32, batch 128, 440 steps on the 1347 digits): ``train`` in one process, then the
   same under ``torchrun --nproc_per_node=P`` (gloo, B/P rows per process).
2. **Trials side by side**: a small zoo run (``vq`` and ``ae``, seeds 0 1, 10 epochs) as
   ``python -m vqlab.zoo``, then with ``--workers W`` (a Dask LocalCluster; the ``distributed`` extra).

Each line gives the wall time and the CPU time (user + sys of every process of the run) of the whole
command, start-up included, and for part 1 also the wall time of the ``train`` call alone on rank 0. On a
2-core machine little speed-up is expected, and other jobs on the machine move every number.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch

PYTHON = sys.executable
ZOO_SMALL = ["-m", "vqlab.zoo", "--seeds", "0", "1", "--bottlenecks", "vq", "ae", "--epochs", "10",
             "--device", "cpu"]


def _run(args: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (all child processes) of ``python args``, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([PYTHON, *args], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def train_once() -> None:
    """One training run of the zoo's VQ-VAE; rank 0 prints the wall time of ``train`` as JSON."""
    from vqlab import distributed
    from vqlab.data import load_digits
    from vqlab.train import train
    from vqlab.zoo import ZooConfig, build_bottleneck

    cfg = ZooConfig()
    x = load_digits().x_train
    model = build_bottleneck("vq", x.shape[1], cfg, seed=0)
    start = time.perf_counter()
    history = train(model, x, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, seed=0, progress=False,
                    device="cpu")
    if distributed.rank() == 0:
        print(json.dumps({"train_s": time.perf_counter() - start, "final_recon": history.epochs["recon"][-1]}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--processes", type=int, default=2, help="torchrun processes for part 1")
    p.add_argument("--workers", type=int, default=2, help="Dask workers for part 2")
    p.add_argument("--train-once", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.train_once:
        train_once()
        return
    me = os.path.abspath(__file__)
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print("1. data-parallel training of the zoo's VQ-VAE (440 steps of batch 128)")
    for label, args in [("1 process", [me, "--train-once"]),
                        (f"torchrun, {a.processes} processes", ["-m", "torch.distributed.run", "--standalone",
                                                                f"--nproc_per_node={a.processes}", me, "--train-once"])]:
        wall, cpu, out = _run(args)
        result = json.loads(out.strip().splitlines()[-1])
        print(f"   {label:24s} command {wall:6.1f} s wall {cpu:6.1f} s CPU; train {result['train_s']:6.1f} s wall; "
              f"final recon {result['final_recon']:.5f}")
    print(f"2. a small zoo run (vq, ae; seeds 0 1; 10 epochs), load average {os.getloadavg()[0]:.1f}")
    tables = []
    for label, extra in [("serial", []), (f"--workers {a.workers}", ["--workers", str(a.workers)])]:
        wall, cpu, out = _run(ZOO_SMALL + extra)
        lines = out.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("variant"))
        tables.append(lines[first:first + 4])          # header, raw, two bottlenecks (progress lines differ)
        print(f"   {label:24s} command {wall:6.1f} s wall {cpu:6.1f} s CPU")
    print(f"   same table: {tables[0] == tables[1]}")


if __name__ == "__main__":
    main()
