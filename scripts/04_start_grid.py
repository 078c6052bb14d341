"""Notebook 04, appendix A: every posterior row from every codebook start, with more seeds than the notebook.

The notebook trains vanilla VQ, neural gas (lambda = 3) and fuzzy c-means (eq. 4.6, m = 1.5) from the three
starts with 5 seeds (its time budget); this script trains all rows of
``vqlab.experiments.POSTERIOR_ROWS`` (adding the normalised fuzzy c-means of eq. 4.7 and neural gas with lambda
annealed from 8 to 0.5) from all ``vqlab.experiments.STARTS``, same models and training, and saves the
result for the notebook to load and print (``Comparison.save``, with the command, machine, seconds and date).

Command (from the repository root; 10 seeds took 124 CPU-seconds on one core of a shared AMD EPYC machine):

    nice -n 19 .venv/bin/python scripts/04_start_grid.py --seeds 10 --out results/04_start_grid.json
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
import time

import torch

import vqlab
from vqlab.data import load_digits
from vqlab.experiments import POSTERIOR_ROWS, STARTS, TRAINING, compare, start_grid


def _cpu_model() -> str:
    """The processor's name as Linux reports it (``platform.processor()`` is empty there), else the machine type."""
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. SEEDS-1 for every row (default 10)")
    parser.add_argument("--out", default="results/04_start_grid.json", help="the JSON to write")
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error(f"--seeds must be at least 2 (a paired interval needs two), got {args.seeds}")
    vqlab.seed_everything(0)
    digits = load_digits()
    start = time.perf_counter()
    cpu = time.process_time()
    result = compare(start_grid(list(POSTERIOR_ROWS), list(STARTS)), digits.x_train, digits.x_test,
                     seeds=tuple(range(args.seeds)), **TRAINING)
    args_line = shlex.join(sys.argv[1:] if argv is None else argv)
    meta = {"command": f"nice -n 19 .venv/bin/python scripts/04_start_grid.py {args_line}",
            "machine": f"{_cpu_model()}, {os.cpu_count()} cores (shared), {platform.system()}, "
                       f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)",
            "seconds": round(time.perf_counter() - start, 1), "cpu_seconds": round(time.process_time() - cpu, 1),
            "date": datetime.date.today().isoformat(), "training": TRAINING}
    path = result.save(args.out, meta=meta)
    print(result.table(["recon", "perplexity", "codes_used"], digits={"recon": 4, "perplexity": 1, "codes_used": 1}))
    print(f"wrote {path} ({meta['seconds']} s wall, {meta['cpu_seconds']} s CPU)")


if __name__ == "__main__":
    main()
