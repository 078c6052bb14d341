"""Notebook 08's scoreboard with 10 seeds: every row of ``vqlab.experiments.SCOREBOARD`` in the notebook's setting.

The notebook trains every row once (seed 0) to show how usage develops during training; its paired comparisons
(10 seeds, more than its time budget allows) come from this script's JSON, which it loads and prints. Same
setting as the notebook: conv VQ-VAE, K = 256, D = 3, FSQ levels (8, 8, 4), 8 epochs, batch 64, Adam 2e-3;
the mean-digit baseline (test MSE of predicting the mean training digit) is saved in ``meta``.

Command line (from the repository root; 216 CPU-seconds, 8 minutes of wall time on the shared 2-core machine
beside one other job)::

    nice -n 19 .venv/bin/python scripts/08_scoreboard.py --out results/08_scoreboard.json
"""
from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time

import vqlab
from vqlab.data import load_digits
from vqlab.experiments import mean_digit_mse, scoreboard

#: The notebook's setting (its §4 text states it).
SETTING = {"epochs": 8, "batch_size": 64, "lr": 2e-3, "num_codes": 256, "code_dim": 3, "fsq_levels": (8, 8, 4)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file to write (Comparison.save)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. n-1 (default 10)")
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error(f"--seeds must be at least 2 (a paired interval needs two), got {args.seeds}")
    vqlab.seed_everything(0)
    data = load_digits()
    x_train, x_test = data.images(data.x_train), data.images(data.x_test)
    start, cpu = time.time(), time.process_time()
    result = scoreboard(x_train, x_test, seeds=tuple(range(args.seeds)), device="cpu", **SETTING)
    result.save(args.out, meta={
        "command": "nice -n 19 .venv/bin/python " + " ".join(
            ["scripts/08_scoreboard.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": f"{platform.machine()}, {platform.system()}, torch on 1 thread",
        "seconds": round(time.time() - start, 1), "cpu_seconds": round(time.process_time() - cpu, 1),
        "date": datetime.date.today().isoformat(), "setting": {**SETTING, "fsq_levels": list(SETTING["fsq_levels"])},
        "mean_digit_mse": mean_digit_mse(x_train, x_test)})
    print(result.table(metrics=("recon", "perplexity", "usage_fraction", "train_seconds")))


if __name__ == "__main__":
    main()
