"""Notebook 02, §6 and Appendix A: the EM quantizer over temperatures, sample counts and codebook updates.

Every variant is the MLP VQ-VAE of notebook 02 §5 (one code per image, K = 32 codes of dimension 8,
k-means++ start, 20 epochs of Adam, batch 128, learning rate 3e-3) around another quantizer, trained with
the same seeds (0-9) and measured on the test digits by ``vqlab.experiments.ib_metrics``. The notebook loads
the result: §6 draws the rate-distortion picture over the temperatures, Appendix A prints the paired
intervals that chose the notebook's setting (tau = 0.03, S = 1, the EMA M step). §5 of the notebook
trains its own comparison on other seeds (10-19).

Command line (about 80 CPU-seconds; 10 minutes of wall time on a loaded 2-core machine)::

    nice -n 19 .venv/bin/python scripts/02_em_settings.py --out results/02_em_settings.json
"""
from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time

import vqlab
from vqlab.data import load_digits
from vqlab.experiments import ib_comparison
from vqlab.quantizers import EMQuantizer, VectorQuantizer

K, D = 32, 8


def variants() -> dict:
    """name -> make_quantizer(seed): hard VQ twice (the two codebook updates), then EM settings."""
    rows = {
        "VQ-VAE (codebook loss)": lambda s: VectorQuantizer(K, D, init="kmeans++", seed=s),
        "hard EM (EMA)": lambda s: VectorQuantizer(K, D, init="kmeans++", codebook_update="ema", seed=s),
    }
    for tau in (0.003, 0.01, 0.03, 0.1, 1.0):
        rows[f"EM tau={tau}, S=1"] = lambda s, t=tau: EMQuantizer(K, D, temperature=t, init="kmeans++", seed=s)
    rows["EM tau=0.03, S=3"] = lambda s: EMQuantizer(K, D, temperature=0.03, num_samples=3, init="kmeans++", seed=s)
    rows["EM tau=0.03, mean"] = lambda s: EMQuantizer(K, D, temperature=0.03, decoder_input="mean",
                                                      init="kmeans++", seed=s)
    rows["EM tau=0.03, S=1, codebook loss"] = lambda s: EMQuantizer(K, D, temperature=0.03, init="kmeans++",
                                                                    codebook_update="gradient", seed=s)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file to write (Comparison.save)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. n-1 (default 10)")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    vqlab.seed_everything(0)
    data = load_digits()
    start, cpu = time.time(), time.process_time()
    result = ib_comparison(variants(), data.x_train, data.x_test, seeds=tuple(range(args.seeds)),
                           epochs=args.epochs, batch_size=128, lr=3e-3)
    result.save(args.out, meta={
        "command": "python " + " ".join(["scripts/02_em_settings.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": f"{platform.machine()}, {platform.system()}, torch on 1 thread",
        "seconds": round(time.time() - start, 1), "cpu_seconds": round(time.process_time() - cpu, 1),
        "date": datetime.date.today().isoformat()})
    print(result.table(metrics=("recon", "perplexity", "codes_used", "conditional_entropy", "mutual_information")))


if __name__ == "__main__":
    main()
