"""Forward+backward time of vqlab's quantizers against vector-quantize-pytorch.

    .venv/bin/python benchmarks/quantizers.py                       # B=16384,D=64,K=512 and B=2048,D=32,K=128
    .venv/bin/python benchmarks/quantizers.py --sizes 16384,64,512 --repeats 20 --threads 1
    .venv/bin/python benchmarks/quantizers.py --profile              # where vqlab spends its time
    .venv/bin/python benchmarks/quantizers.py --device auto          # on a GPU when torch sees one

One run times, at the same B (vectors), D (dimension) and K (codes), in training mode:

* ``grad``: ``VectorQuantizer(K, D, beta=0.25, codebook_update="gradient")``
  vs ``VectorQuantize(dim=D, codebook_size=K, learnable_codebook=True, ema_update=False,
  commitment_weight=0.25, rotation_trick=False)``;
* ``EMA``: ``VectorQuantizer(K, D, beta=0.25, codebook_update="ema", decay=0.99, epsilon=1e-5)``
  vs ``VectorQuantize(dim=D, codebook_size=K, decay=0.99, eps=1e-5, commitment_weight=0.25,
  rotation_trick=False)`` (EMA is the peer's default);
* ``grad+rot`` and ``EMA+rot``: the same two pairs with the rotation trick (Fifty et al. 2024) on both
  sides (``rotation_trick=True``);
* ``FSQ``: ``FSQuantizer(levels)`` vs ``FSQ(levels=levels)`` at the same B, with D = len(levels) and
  K = prod(levels) (``--levels``, default 8,5,5,5: K = 1000); the D, K columns show those.
* ``SimVQ`` (arXiv:2411.02038): ``SimVQuantizer(K, D, beta=0.25)`` vs ``SimVQ(dim=D, codebook_size=K,
  rotation_trick=False, input_to_quantize_commit_loss_weight=0.25, commitment_weight=1.0)`` (the pair
  ``tests/test_simvq.py`` shows equal);
* ``LFQ`` (arXiv:2310.05737) and ``BSQ`` (arXiv:2406.07548): ``LFQuantizer(bits, beta=0.25, weight=0.1,
  temperature=0.01)`` / ``BSQuantizer(...)`` vs ``LFQ(dim=bits, codebook_size=2**bits, entropy_loss_weight=0.1,
  commitment_loss_weight=0.25, spherical=False/True)`` (the pairs ``tests/test_lfq.py`` shows equal), with
  D = ``--bits`` (default 10: K = 1024), the entropy terms over all K codes on both sides.

Both VQ peers: no k-means init, no cosine similarity, no dead-code expiry, no orthogonal/diversity loss,
no projection, one head. A step is ``out = q(z); loss = mean(z_q^2) + sum(quantizer losses);
loss.backward()`` with ``z`` a leaf ``[B, D]`` (``[1, B, D]`` for the peer). Timing: warm-up runs, then
``--repeats`` timed steps of each side, *interleaved* (ours, peer, peer, ours, ...) so that both see the
same machine load, and the median of each; the same torch thread count for both (``--threads``, default
1, as vqlab sets). The ratio ``vqlab/peer`` is of the two medians of the same run.

vector-quantize-pytorch is an optional benchmark extra; vqlab never imports it.
"""
from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

import vqlab
from vqlab.quantizers import BSQuantizer, FSQuantizer, LFQuantizer, SimVQuantizer, VectorQuantizer
from vqlab.train import resolve_device

IDENTICAL = """identical: B, D, K, decay 0.99, Laplace epsilon 1e-5, commitment weight 0.25 (MSE per element),
  nearest-codeword argmin, straight-through z_q (rotation trick: the same R = I - 2rr^T + 2qe^T and
  rescaling |z_q|/|z_e|), EMA formulas (N_k, m_k, Laplace-smoothed w_k), training mode; FSQ: the same
  bound (tanh with the even-L half offset, eps 1e-3), rounding, codes and mixed-radix indices.
not identical: peer's gradient mode puts the commitment weight 0.25 on ONE symmetric term ||z - w||^2
  (vqlab: codebook loss weight 1 + commitment 0.25, two detached terms); peer's distance is sqrt'ed cdist
  (argmin unchanged), quantize via one-hot einsum, codebook init kaiming-uniform (vqlab U(-1/K, 1/K));
  vqlab also returns probs [B, K] (one-hot), counts and perplexity every step, FSQ included (the peers
  return indices only)."""

MODES = ("grad", "EMA", "grad+rot", "EMA+rot", "FSQ", "SimVQ", "LFQ", "BSQ")


def vqlab_step(q: nn.Module, z: torch.Tensor) -> None:
    out = q(z)
    loss = out.z_q.pow(2).mean() + sum(out.losses.values())
    loss.backward()


def peer_step(q: nn.Module, z: torch.Tensor) -> None:
    out = q(z.unsqueeze(0))
    loss = out[0].pow(2).mean() + (out[2].sum() if len(out) == 3 else 0.0)   # FSQ returns (z_q, indices)
    loss.backward()


def time_pair(ours: Callable[[], None], peer: Callable[[], None], params: list[torch.Tensor], warmup: int,
              repeats: int) -> tuple[float, float]:
    """Median seconds of one forward+backward step of each side, timed interleaved after warm-up (on a GPU
    each step is followed by ``torch.cuda.synchronize`` so that the time is the step's, not its launch's)."""
    sync = torch.cuda.synchronize if params[0].is_cuda else (lambda: None)
    times: dict[Callable[[], None], list[float]] = {ours: [], peer: []}
    for i in range(warmup + repeats):
        for step in (ours, peer) if i % 2 == 0 else (peer, ours):
            for p in params:
                p.grad = None
            t0 = time.perf_counter()
            step()
            sync()
            if i >= warmup:
                times[step].append(time.perf_counter() - t0)
    return statistics.median(times[ours]), statistics.median(times[peer])


def make_pair(mode: str, d: int, k: int, levels: tuple[int, ...], bits: int) -> tuple[nn.Module, nn.Module]:
    from vector_quantize_pytorch import FSQ, LFQ, SimVQ, VectorQuantize

    if mode == "FSQ":
        return FSQuantizer(levels).train(), FSQ(levels=list(levels)).train()
    if mode == "SimVQ":
        return SimVQuantizer(k, d, beta=0.25).train(), SimVQ(
            dim=d, codebook_size=k, rotation_trick=False, input_to_quantize_commit_loss_weight=0.25,
            commitment_weight=1.0).train()
    if mode in ("LFQ", "BSQ"):
        ours = (LFQuantizer if mode == "LFQ" else BSQuantizer)(bits, beta=0.25, weight=0.1, temperature=0.01)
        return ours.train(), LFQ(dim=bits, codebook_size=2 ** bits, entropy_loss_weight=0.1,
                                 commitment_loss_weight=0.25, spherical=mode == "BSQ").train()
    rot = mode.endswith("+rot")
    common = dict(dim=d, codebook_size=k, commitment_weight=0.25, rotation_trick=rot, kmeans_init=False,
                  use_cosine_sim=False, threshold_ema_dead_code=0)
    if mode.startswith("grad"):
        ours = VectorQuantizer(k, d, beta=0.25, codebook_update="gradient", rotation_trick=rot)
        peer = VectorQuantize(**common, learnable_codebook=True, ema_update=False)
    else:
        ours = VectorQuantizer(k, d, beta=0.25, codebook_update="ema", decay=0.99, epsilon=1e-5,
                               rotation_trick=rot)
        peer = VectorQuantize(**common, decay=0.99, eps=1e-5)
    return ours.train(), peer.train()


def _size(mode: str, d: int, k: int, levels: tuple[int, ...], bits: int) -> tuple[int, int]:
    """``(D, K)`` of ``mode``: FSQ's ``(len(levels), prod(levels))``, LFQ's and BSQ's ``(bits, 2**bits)``."""
    if mode == "FSQ":
        return len(levels), math.prod(levels)
    return (bits, 2 ** bits) if mode in ("LFQ", "BSQ") else (d, k)


def run(b: int, d: int, k: int, levels: tuple[int, ...], bits: int, warmup: int, repeats: int,
        device: torch.device) -> list[tuple[str, int, int, float, float]]:
    """Rows ``(mode, D, K, vqlab seconds, peer seconds)`` for every mode of :data:`MODES`, on ``device``."""
    gen = torch.Generator().manual_seed(0)
    rows = []
    for mode in MODES:
        ours, peer = (q.to(device) for q in make_pair(mode, d, k, levels, bits))
        dim, codes = _size(mode, d, k, levels, bits)
        z = torch.randn(b, dim, generator=gen).to(device).requires_grad_()
        t_ours, t_peer = time_pair(lambda: vqlab_step(ours, z), lambda: peer_step(peer, z),
                                   [z, *ours.parameters(), *peer.parameters()], warmup, repeats)
        rows.append((mode, dim, codes, t_ours, t_peer))
    return rows


def profile(b: int, d: int, k: int, levels: tuple[int, ...], bits: int, repeats: int) -> None:
    from torch.profiler import ProfilerActivity, profile as tprofile

    for mode in MODES:
        ours, _ = make_pair(mode, d, k, levels, bits)
        dim, codes = _size(mode, d, k, levels, bits)
        z = torch.randn(b, dim).requires_grad_()
        for _ in range(3):
            vqlab_step(ours, z)
        with tprofile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(repeats):
                z.grad = None
                ours.zero_grad(set_to_none=True)
                vqlab_step(ours, z)
        print(f"\n=== vqlab {mode}, B={b} D={dim} K={codes}: top ops by self CPU time ===")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["16384,64,512", "2048,32,128"],
                    help="one or more B,D,K triples (default: %(default)s)")
    ap.add_argument("--levels", default="8,5,5,5", help="FSQ levels L_1,...,L_D (default: %(default)s)")
    ap.add_argument("--bits", type=int, default=10, help="LFQ/BSQ bits D (K = 2^D; default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=15, help="timed steps per case (median is reported)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps before timing")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for both (default: vqlab's, 1)")
    ap.add_argument("--profile", action="store_true", help="profile vqlab's quantizers at the first size")
    ap.add_argument("--device", default="cpu", help="cpu (default), auto (a GPU when torch sees one) or cuda[:N]")
    args = ap.parse_args()
    device = resolve_device(args.device)
    threads = vqlab.configure_threads(args.threads)
    sizes = [tuple(int(v) for v in s.split(",")) for s in args.sizes]
    levels = tuple(int(v) for v in args.levels.split(","))
    import vector_quantize_pytorch  # noqa: F401  (fail early with a clear ImportError)
    from importlib.metadata import version

    print(f"torch {torch.__version__}, vector-quantize-pytorch {version('vector-quantize-pytorch')}, "
          f"threads={threads} for both, warm-up {args.warmup}, median of {args.repeats} interleaved steps each, {device}")
    print(f"{'B':>6} {'D':>4} {'K':>5}  {'mode':<8} {'vqlab ms':>9} {'peer ms':>9} {'vqlab/peer':>11}")
    for b, d, k in sizes:
        for mode, dim, codes, t_ours, t_peer in run(b, d, k, levels, args.bits, args.warmup, args.repeats, device):
            print(f"{b:>6} {dim:>4} {codes:>5}  {mode:<8} {1e3 * t_ours:>9.2f} {1e3 * t_peer:>9.2f} "
                  f"{t_ours / t_peer:>10.2f}x", flush=True)
    print(IDENTICAL)
    if args.profile:
        profile(*sizes[0], levels=levels, bits=args.bits, repeats=args.repeats)


if __name__ == "__main__":
    main()
