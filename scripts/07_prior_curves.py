"""Notebook 07, appendix A: the test NLL of each prior epoch by epoch, for twice the notebook's epochs and more seeds.

The notebook fits the three autoregressive priors of ``vqlab.experiments.PRIORS`` to the code maps of one VQ-VAE
(``vqlab.experiments.stage_one``, seed 0) for 20 epochs with 5 seeds (its time budget). This script fits the same
priors, with the same settings, for 40 epochs and records the NLL of the test maps in bits per code after every
epoch. From those curves it saves, per prior and seed: the test NLL after 20 and after 40 epochs, the lowest test
NLL over the 40 epochs and the epoch where it is reached, and the train NLL after 40 epochs (``Comparison.save``,
with the command, machine, seconds and date). Training for 40 epochs passes through the 20-epoch state of the
notebook's run with the same seed, so ``test_bits_20`` repeats the notebook's numbers for seeds 0-4.

Command (from the repository root; 10 seeds took 432 CPU-seconds, 31 minutes of wall time niced on a shared
2-core AMD EPYC machine; the saved meta has both):

    nice -n 19 .venv/bin/python scripts/07_prior_curves.py --seeds 10 --out results/07_prior_curves.json
"""
from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import time

import numpy as np
from torch import Tensor

import vqlab
from _machine import machine
from vqlab.data import load_digits
from vqlab.experiments import PRIOR_TRAINING, PRIORS, Trial, compare, stage_one

EPOCHS = 2 * PRIOR_TRAINING["epochs"]


class TestBits:
    """A ``train`` callback: the test NLL in bits per code after every optimizer step (the prior is small)."""

    def __init__(self, codes_test: Tensor):
        self.codes_test = codes_test

    def __call__(self, model, step: int) -> dict[str, float]:
        return {"test_bits": model.bits_per_code(self.codes_test)}


class PriorTrial:
    """A factory ``seed -> Trial``: the prior of ``PRIORS[name]`` with the :class:`TestBits` callback."""

    def __init__(self, name: str, codes_test: Tensor):
        self.name, self.codes_test = name, codes_test

    def __call__(self, seed: int) -> Trial:
        return Trial(PRIORS[self.name](seed), callbacks=[TestBits(self.codes_test)])


class CurveSummary:
    """The measure: numbers read off the per-epoch test NLL (the value after each epoch's last step)."""

    def __init__(self, codes_train: Tensor):
        self.codes_train = codes_train

    def __call__(self, trial: Trial, codes_test: Tensor) -> dict[str, float]:
        steps = trial.history.steps["test_bits"]
        per_epoch = np.asarray(steps[len(steps) // EPOCHS - 1::len(steps) // EPOCHS])
        half = PRIOR_TRAINING["epochs"]
        return {"test_bits_20": float(per_epoch[half - 1]), "test_bits_40": float(per_epoch[-1]),
                "best_test_bits": float(per_epoch.min()), "best_epoch": float(per_epoch.argmin() + 1),
                "train_bits_40": trial.model.bits_per_code(self.codes_train)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. SEEDS-1 for every prior (default 10)")
    parser.add_argument("--out", default="results/07_prior_curves.json", help="the JSON to write")
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error(f"--seeds must be at least 2 (a paired interval needs two), got {args.seeds}")
    vqlab.seed_everything(0)
    digits = load_digits()
    start, cpu = time.perf_counter(), time.process_time()
    one = stage_one(digits.images(digits.x_train), digits.images(digits.x_test), seed=0)
    training = dict(PRIOR_TRAINING, epochs=EPOCHS)
    result = compare({name: PriorTrial(name, one.codes_test) for name in PRIORS}, one.codes_train, one.codes_test,
                     seeds=tuple(range(args.seeds)), measure=CurveSummary(one.codes_train), **training)
    args_line = shlex.join(sys.argv[1:] if argv is None else argv)
    meta = {"command": f"nice -n 19 .venv/bin/python scripts/07_prior_curves.py {args_line}",
            "machine": machine(),
            "seconds": round(time.perf_counter() - start, 1), "cpu_seconds": round(time.process_time() - cpu, 1),
            "date": datetime.date.today().isoformat(), "training": training, "stage_one_seed": 0}
    path = result.save(args.out, meta=meta)
    print(result.table(digits=3))
    print(f"wrote {path} ({meta['seconds']} s wall, {meta['cpu_seconds']} s CPU)")


if __name__ == "__main__":
    main()
