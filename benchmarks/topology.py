"""Benchmark: forward + backward of the 0-dim death times, vqlab vs torch-topological.

    .venv/bin/python benchmarks/topology.py [--repeats 5] [--sizes 128 512 2048] [--dim 64] [--device cpu]

Both sides compute the finite H0 deaths of the Vietoris–Rips filtration of ``n`` random points in ℝ^dim
and backpropagate their sum to the points: vqlab's :func:`vqlab.topology.mst_deaths` (vectorised Borůvka
on packed keys, ⌈log₂ n⌉ rounds) and torch-topological's ``VietorisRipsComplex(dim=0)`` (giotto-ph on a
``torch.cdist`` matrix). torch-topological is an optional benchmark dependency; vqlab never imports it.
The script first checks that both give the same deaths, then prints the median time of each and the ratio.
Timings depend on the machine and its load; compare the ratio, which is measured in the same run.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import vqlab
from vqlab.topology import mst_deaths
from vqlab.train import resolve_device


def _peer():
    try:
        from torch_topological.nn import VietorisRipsComplex
    except ImportError:  # optional dependency
        return None
    vr = VietorisRipsComplex(dim=0)

    def deaths(x: torch.Tensor) -> torch.Tensor:
        return vr(x)[0].diagram[:, 1]

    return deaths


def _time(fn, x: torch.Tensor, repeats: int) -> float:
    """Median seconds of forward + backward of ``fn(x).sum()``."""
    times = []
    for _ in range(repeats + 1):  # first call is a warm-up
        xx = x.clone().requires_grad_(True)
        t0 = time.perf_counter()
        fn(xx).sum().backward()
        if xx.is_cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 512, 2048])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu", help="cpu (default), auto or cuda[:N]; the peer runs on the CPU")
    args = parser.parse_args()
    device = resolve_device(args.device)
    vqlab.seed_everything(0)
    peer = _peer()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, d = {args.dim}, "
          f"median of {args.repeats} forward+backward passes, vqlab on {device}")
    print(f"{'n':>6} {'vqlab mst_deaths':>18} {'torch-topological':>18} {'speed-up':>9}  same deaths")
    for n in args.sizes:
        x = torch.randn(n, args.dim)
        ours = _time(mst_deaths, x.to(device), args.repeats)
        if peer is None:
            print(f"{n:>6} {ours * 1e3:>15.1f} ms {'(not installed)':>18}")
            continue
        same = torch.allclose(mst_deaths(x.to(device)).cpu().sort().values, peer(x).detach().sort().values, atol=1e-4)
        theirs = _time(peer, x, args.repeats)
        print(f"{n:>6} {ours * 1e3:>15.1f} ms {theirs * 1e3:>15.1f} ms {theirs / ours:>8.1f}x  {same}")


if __name__ == "__main__":
    main()
