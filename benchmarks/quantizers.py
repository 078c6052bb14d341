"""Forward+backward time of vqlab's hard-VQ quantizers against vector-quantize-pytorch.

    .venv/bin/python benchmarks/quantizers.py                       # B=16384,D=64,K=512 and B=2048,D=32,K=128
    .venv/bin/python benchmarks/quantizers.py --sizes 16384,64,512 --repeats 20 --threads 1
    .venv/bin/python benchmarks/quantizers.py --profile              # where vqlab spends its time

One run times, at the same B (vectors), D (dimension) and K (codes), in training mode:

* ``vqlab grad``: ``VectorQuantizer(K, D, beta=0.25, codebook_update="gradient")``
  vs ``VectorQuantize(dim=D, codebook_size=K, learnable_codebook=True, ema_update=False,
  commitment_weight=0.25, rotation_trick=False)``;
* ``vqlab EMA``: ``VectorQuantizer(K, D, beta=0.25, codebook_update="ema", decay=0.99, epsilon=1e-5)``
  vs ``VectorQuantize(dim=D, codebook_size=K, decay=0.99, eps=1e-5, commitment_weight=0.25,
  rotation_trick=False)`` (EMA is the peer's default).

Both peers: no k-means init, no cosine similarity, no dead-code expiry, no orthogonal/diversity loss, no
projection, one head, straight-through gradient (``rotation_trick=False``; the peer's default for D > 1 is
the rotation trick). A step is ``out = q(z); loss = mean(z_q^2) + sum(quantizer losses); loss.backward()``
with ``z`` a leaf ``[B, D]`` (``[1, B, D]`` for the peer). Timing: warm-up runs, then the median of
``--repeats`` timed steps, the same torch thread count for both (``--threads``, default 1, as vqlab sets).

vector-quantize-pytorch is an optional benchmark extra; vqlab never imports it.
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

import vqlab
from vqlab.quantizers import VectorQuantizer

IDENTICAL = """identical: B, D, K, decay 0.99, Laplace epsilon 1e-5, commitment weight 0.25 (MSE per element),
  nearest-codeword argmin, straight-through z_q, EMA formulas (N_k, m_k, Laplace-smoothed w_k), training mode.
not identical: peer's gradient mode puts the commitment weight 0.25 on ONE symmetric term ||z - w||^2
  (vqlab: codebook loss weight 1 + commitment 0.25, two detached terms); peer's distance is sqrt'ed cdist
  (argmin unchanged), quantize via one-hot einsum, codebook init kaiming-uniform (vqlab U(-1/K, 1/K));
  vqlab also returns probs [B, K], counts and perplexity every step (the peer returns indices only)."""


def vqlab_step(q: VectorQuantizer, z: torch.Tensor) -> None:
    out = q(z)
    loss = out.z_q.pow(2).mean() + sum(out.losses.values())
    loss.backward()


def peer_step(q, z: torch.Tensor) -> None:
    quantize, _, commit = q(z.unsqueeze(0))
    loss = quantize.pow(2).mean() + commit.sum()
    loss.backward()


def time_step(step: Callable[[], None], params: list[torch.Tensor], warmup: int, repeats: int) -> float:
    """Median seconds of one forward+backward step after ``warmup`` untimed steps."""
    times = []
    for i in range(warmup + repeats):
        for p in params:
            p.grad = None
        t0 = time.perf_counter()
        step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def make_pair(mode: str, d: int, k: int):
    from vector_quantize_pytorch import VectorQuantize

    common = dict(dim=d, codebook_size=k, commitment_weight=0.25, rotation_trick=False, kmeans_init=False,
                  use_cosine_sim=False, threshold_ema_dead_code=0)
    if mode == "grad":
        ours = VectorQuantizer(k, d, beta=0.25, codebook_update="gradient")
        peer = VectorQuantize(**common, learnable_codebook=True, ema_update=False)
    else:
        ours = VectorQuantizer(k, d, beta=0.25, codebook_update="ema", decay=0.99, epsilon=1e-5)
        peer = VectorQuantize(**common, decay=0.99, eps=1e-5)
    return ours.train(), peer.train()


def run(b: int, d: int, k: int, warmup: int, repeats: int) -> list[tuple[str, float, float]]:
    gen = torch.Generator().manual_seed(0)
    rows = []
    for mode in ("grad", "EMA"):
        ours, peer = make_pair(mode.lower(), d, k)
        z = torch.randn(b, d, generator=gen).requires_grad_()
        t_ours = time_step(lambda: vqlab_step(ours, z), [z, *ours.parameters()], warmup, repeats)
        t_peer = time_step(lambda: peer_step(peer, z), [z, *peer.parameters()], warmup, repeats)
        rows.append((mode, t_ours, t_peer))
    return rows


def profile(b: int, d: int, k: int, repeats: int) -> None:
    from torch.profiler import ProfilerActivity, profile as tprofile

    for mode in ("grad", "ema"):
        ours, _ = make_pair(mode, d, k)
        z = torch.randn(b, d).requires_grad_()
        for _ in range(3):
            vqlab_step(ours, z)
        with tprofile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(repeats):
                z.grad = None
                ours.zero_grad(set_to_none=True)
                vqlab_step(ours, z)
        print(f"\n=== vqlab {mode}, B={b} D={d} K={k}: top ops by self CPU time ===")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["16384,64,512", "2048,32,128"],
                    help="one or more B,D,K triples (default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=15, help="timed steps per case (median is reported)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps before timing")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for both (default: vqlab's, 1)")
    ap.add_argument("--profile", action="store_true", help="profile vqlab's quantizers at the first size")
    args = ap.parse_args()
    threads = vqlab.configure_threads(args.threads)
    sizes = [tuple(int(v) for v in s.split(",")) for s in args.sizes]
    import vector_quantize_pytorch  # noqa: F401  (fail early with a clear ImportError)
    from importlib.metadata import version

    print(f"torch {torch.__version__}, vector-quantize-pytorch {version('vector-quantize-pytorch')}, "
          f"threads={threads} for both, warm-up {args.warmup}, median of {args.repeats} steps, CPU")
    print(f"{'B':>6} {'D':>4} {'K':>5}  {'mode':<5} {'vqlab ms':>9} {'peer ms':>9} {'vqlab/peer':>11}")
    for b, d, k in sizes:
        for mode, t_ours, t_peer in run(b, d, k, args.warmup, args.repeats):
            print(f"{b:>6} {d:>4} {k:>5}  {mode:<5} {1e3 * t_ours:>9.2f} {1e3 * t_peer:>9.2f} "
                  f"{t_ours / t_peer:>10.2f}x")
    print(IDENTICAL)
    if args.profile:
        profile(*sizes[0], repeats=args.repeats)


if __name__ == "__main__":
    main()
