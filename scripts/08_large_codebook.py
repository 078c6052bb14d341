"""Notebook 08's new rows and its large-codebook section: every row of ``vqlab.experiments.LARGE_CODEBOOK``
(plain VQ, dead-code restart, FSQ, the rotation trick, SimVQ, IBQ, LFQ, BSQ, OptVQ's Sinkhorn assignment,
CVQ-VAE's anchored re-initialisation) with K = 64 codes (the scoreboard's size) and with K = 4096 (64 times
more) on notebook 08's conv VQ-VAE with its budget (``vqlab.experiments.large_codebook``: 8 epochs, batch 64,
learning rate 2e-3, 16 channels, D = 3; FSQ 4x4x4 and 16x16x16; LFQ and BSQ with D = log2 K = 6 and 12), each
with its own defaults, seeds 0 .. SEEDS-1, and saves the result for the notebook to load (``Comparison.save``,
with the command, machine, seconds and date). Rows are trained one after another and the result so far is
saved after each to ``--out`` with ``.partial`` before the suffix; a rerun with the same seeds resumes from
that file (rows already there are not trained again; ``meta["resumed"]`` lists them). Rows trained by separate
runs of this script (``--rows ... --out other.json``, e.g. side by side) are joined with ``--merge other.json``
(their commands and times are kept in ``meta["parts"]``).

Command (from the repository root). Niced on 2 cores shared by eight engineers (load 12-18), a row of five seeds
took 10 s to 2.5 minutes at K = 64 and 12 (IBQ) to 25 (LFQ) minutes at K = 4096: the whole grid takes longer than the
40 minutes it was sized for on that machine; the saved ``meta`` says how it was run:

    nice -n 19 .venv/bin/python scripts/08_large_codebook.py --seeds 5 --out results/08_large_codebook.json
"""
from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import time
from pathlib import Path

import vqlab
from _machine import machine
from vqlab.data import load_digits
from vqlab.experiments import K64_ROW, LARGE_CODEBOOK, Comparison, large_codebook, row_name, uniform_ceiling

METRICS = ("recon", "usage_fraction", "perplexity_fraction", "train_perplexity_fraction", "train_seconds")


def _merge(parts: list[Comparison]) -> Comparison:
    """One :class:`Comparison` of parts trained with the same seeds (their rows side by side)."""
    values = {name: row for part in parts for name, row in part.values.items()}
    failures = {name: row for part in parts for name, row in part.failures.items()}
    return Comparison(values, parts[0].seeds, failures=failures)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 .. SEEDS-1 for every row (default 5)")
    parser.add_argument("--codes", type=int, nargs="+", default=[64, 4096], help="the K of every row (default 64 4096)")
    parser.add_argument("--rows", nargs="+", default=list(LARGE_CODEBOOK), choices=list(LARGE_CODEBOOK),
                        help="the rows (default: all)")
    parser.add_argument("--out", default="results/08_large_codebook.json", help="the JSON to write")
    parser.add_argument("--note", default="", help="free text kept as meta['note'] (e.g. how a resumed run was split)")
    parser.add_argument("--merge", nargs="*", default=[], metavar="JSON",
                        help="results of this script for some rows, run separately with the same seeds (e.g. in "
                             "parallel with --rows and another --out): their rows are taken, not trained again, "
                             "and their meta is kept under meta['parts']")
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error(f"--seeds must be at least 2 (a paired interval needs two), got {args.seeds}")
    vqlab.seed_everything(0)
    digits = load_digits()
    x_train, x_test = digits.images(digits.x_train), digits.images(digits.x_test)
    seeds = tuple(range(args.seeds))
    out = Path(args.out)
    partial = out.with_suffix(".partial" + out.suffix)
    parts, resumed = [], []
    if partial.exists():
        earlier = Comparison.load(partial)
        if tuple(earlier.seeds) == seeds:
            parts, resumed = [earlier], list(earlier.variants)
            print(f"resuming from {partial}: {', '.join(resumed)}", flush=True)
    merged = {}
    for other in map(Path, args.merge):
        part = Comparison.load(other)
        if tuple(part.seeds) != seeds:
            parser.error(f"--merge {other}: seeds {list(part.seeds)}, not {list(seeds)}")
        parts.append(part)
        resumed += part.variants
        merged[other.name] = {"rows": part.variants, **{key: part.meta.get(key) for key in
                                                        ("command", "seconds", "cpu_seconds", "date")}}
    start, cpu = time.perf_counter(), time.process_time()
    for k in args.codes:
        for row in args.rows:
            if row_name(row, k) in resumed:
                continue
            parts.append(large_codebook(x_train, x_test, names=(row,), num_codes=k, seeds=seeds, device="cpu"))
            _merge(parts).save(partial, meta={"resumed": resumed})
            print(f"{row_name(row, k)}: done after {time.perf_counter() - start:.0f} s", flush=True)
    result = _merge(parts)
    args_line = shlex.join(sys.argv[1:] if argv is None else argv)
    meta = {"command": f"nice -n 19 .venv/bin/python scripts/08_large_codebook.py {args_line}",
            "machine": machine(),
            "seconds": round(time.perf_counter() - start, 1), "cpu_seconds": round(time.process_time() - cpu, 1),
            "resumed": resumed, "parts": merged, "note": args.note, "date": datetime.date.today().isoformat(),
            "training": {"epochs": 8, "batch_size": 64, "lr": 2e-3, "channels": 16, "code_dim": 3,
                         "num_codes": list(args.codes)},
            "uniform_ceiling": {f"K = {k}": {"test (7200 latents)": uniform_ceiling(k, x_test.shape[0] * 16),
                                             "train (21552 latents)": uniform_ceiling(k, x_train.shape[0] * 16)}
                                for k in args.codes}}
    path = result.save(out, meta=meta)
    partial.unlink(missing_ok=True)
    print(result.table(list(METRICS), digits={"recon": 4, "usage_fraction": 3, "perplexity_fraction": 3,
                                              "train_perplexity_fraction": 3, "train_seconds": 1}))
    if K64_ROW in result.values:  # not in a run of some rows (--rows) meant for --merge
        print(result.paired_table(K64_ROW, ["recon"], higher_is_better={"recon": False}, digits=4))
    print("a uniform code would show:", meta["uniform_ceiling"])
    print(f"wrote {path} ({meta['seconds']} s wall, {meta['cpu_seconds']} s CPU; resumed rows: {resumed})")


if __name__ == "__main__":
    main()
