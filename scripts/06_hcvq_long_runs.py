"""HC-VQ against its dry run on the digits, for longer than notebook 06 can afford (issue 23, item 12).

Notebook 06 trains for 110 steps; what happens later, and with other settings, is measured here and saved
with :meth:`vqlab.experiments.Comparison.save` (meta: command, machine, seconds, date), for the notebook to
load and print with paired per-seed intervals. Two parts:

``--part long``
    20 epochs (440 steps), seeds 0-9: the dry run and HC-VQ (paper mode, P = 20, the paper's targets) from
    the HC-VQ code's initialisation ``uniform`` (U(-1/K, 1/K)) and from the reference (Sonnet) one,
    ``variance_scaling``. Besides the test metrics, the mean per-batch usage entropy of every epoch
    (``usage_e01`` ... ``usage_e20``, nats), so that the notebook can say when the dry run overtakes.
``--part settings``
    8 epochs (176 steps), seeds 0-4: one dry run per training setting (learning rate, initialisation) and
    HC-VQ with changed targets, weight, sigma, mode, learning rate or initialisation: the research log of
    the notebook's appendix.

Command lines (about 4 and 6 CPU-minutes on one core, 57 and 24 minutes of wall time on the shared course
machine; run them niced)::

    nice -n 19 .venv/bin/python scripts/06_hcvq_long_runs.py --part long --out results/06_hcvq_long_runs.json
    nice -n 19 .venv/bin/python scripts/06_hcvq_long_runs.py --part settings --out results/06_hcvq_settings.json
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import shlex
import sys
import time
from pathlib import Path

import torch

from vqlab.data import load_digits
from vqlab.experiments import Comparison, add_epoch_usage, hcvq_comparison

#: notebook 06's setup (the paper's beta and learning rate, P = 20 for short runs, the signature logged
#: every 20 steps in a dry run)
SETUP = dict(period=20, track_every=20, lr=8e-4, beta=0.25, mode="paper")
STEPS_PER_EPOCH = 22  # 1347 training digits in batches of 64


def run(runs: dict[str, dict], x, x_test, seeds: tuple[int, ...], epochs: int) -> Comparison:
    """Every ``label -> keyword arguments of hcvq_comparison`` (``arms`` included) for the same seeds,
    merged into one :class:`Comparison` whose variants are ``"<arm> (<label>)"``."""
    values, trials = {}, {}
    for label, kwargs in runs.items():
        start = time.perf_counter()
        result = hcvq_comparison(x, x_test, seeds=seeds, epochs=epochs, **{**SETUP, **kwargs})
        add_epoch_usage(result, STEPS_PER_EPOCH)
        for arm in result.variants:
            values[f"{arm} ({label})"] = result.values[arm]
            trials[f"{arm} ({label})"] = result.trials[arm]
        print(f"{label}: {time.perf_counter() - start:.0f} s", flush=True)
    return Comparison(values, seeds, trials)


def long_runs() -> tuple[dict[str, dict], tuple[int, ...], int]:
    both = {"dry run": False, "HC-VQ": True}
    return ({"uniform": dict(arms=both, init="uniform"),
             "variance_scaling": dict(arms=both, init="variance_scaling")}, tuple(range(10)), 20)


def settings() -> tuple[dict[str, dict], tuple[int, ...], int]:
    dry, hcvq = {"dry run": False}, {"HC-VQ": True}
    runs = {"base": dict(arms={"dry run": False, "HC-VQ": True})}
    for label, kwargs in {"T_mu=2": dict(target_mu=2.0), "T_mu=4": dict(target_mu=4.0),
                          "w=1e-4": dict(weight=1e-4), "sigma=0.1": dict(sigma=0.1),
                          "usage mode": dict(mode="usage"), "code mode": dict(mode="code")}.items():
        runs[label] = dict(arms=hcvq, **kwargs)
    for label, kwargs in {"lr=3e-3": dict(lr=3e-3), "kmeans++": dict(init="kmeans++"),
                          "variance_scaling": dict(init="variance_scaling")}.items():
        runs[label] = dict(arms={**dry, **hcvq}, **kwargs)
    return runs, tuple(range(5)), 8


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{model}, {os.cpu_count()} cores (load average {load:.1f} at the end); torch {torch.__version__} on "
            f"{torch.get_num_threads()} thread(s); {platform.system()}")


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("long", "settings"), required=True)
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write (results/06_*.json)")
    args = parser.parse_args(argv)
    data = load_digits()
    x, x_test = data.images(data.x_train), data.images(data.x_test)
    runs, seeds, epochs = long_runs() if args.part == "long" else settings()
    start, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    result = run(runs, x, x_test, seeds, epochs)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    seconds = time.perf_counter() - start
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    meta = {"command": " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv]),
            "machine": machine(), "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "setup": {**SETUP, "epochs": epochs, "steps": epochs * STEPS_PER_EPOCH, "batch_size": 64,
                      "num_codes": 128, "code_dim": 64, "data": "embedded digits, 1347 train / 450 test"},
            "runs": {label: {k: v for k, v in kw.items() if k != "arms"} | {"arms": list(kw["arms"])}
                     for label, kw in runs.items()}}
    path = result.save(args.out, meta=meta)
    print(f"wrote {path} ({seconds:.0f} s wall, {cpu:.0f} CPU-s)")
    return path


if __name__ == "__main__":
    main()
