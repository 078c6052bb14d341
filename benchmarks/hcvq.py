"""Benchmark: one HC-VQ step (forward + backward of the regularizer) on a K x d codebook.

    .venv/bin/python benchmarks/hcvq.py [--repeats 20] [--codes 128] [--dim 64] [--device cpu]

One step = the homology signature {n1, mu0} of the codebook (giotto-ph H0/H1 pairs with gradients,
smooth count of the H1 bars, MST mean death), the penalty w * g * [(n1 - T_n1)^2 + w_mu (mu0 - T_mu)^2] and its
backward pass to the codebook (:mod:`vqlab.hcvq`). The cost of persistent homology depends on the cloud,
so three codebooks are timed: Gaussian N(0, 1) codes, the HC-VQ code's initialisation U(-1/K, 1/K) (that of
the PyTorch VQ-VAE ports, not of DeepMind's Sonnet reference) and a codebook taken after a short digits training run (many near-duplicate dead codes). For reference, the
public HC-VQ code's signature through torch-topological's ``VietorisRipsComplex(dim=1)`` (optional
benchmark dependency) is timed on the same codebooks. Prints the median over ``repeats`` (after one
warm-up); timings depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import vqlab
from vqlab.hcvq import HCVQRegularizer, homology_signature
from vqlab.train import resolve_device


def _time(step, codebook: torch.Tensor, repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``step(w)`` (forward + backward) on a fresh leaf copy of
    ``codebook``. The CPU time (this process only) is less sensitive to other jobs on a shared machine."""
    wall, cpu = [], []
    for _ in range(repeats + 1):
        w = codebook.clone().requires_grad_()
        t0, c0 = time.perf_counter(), time.process_time()
        step(w)
        if w.is_cuda:
            torch.cuda.synchronize()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall[1:]), statistics.median(cpu[1:])


def hcvq_step(reg: HCVQRegularizer):
    def step(w: torch.Tensor) -> None:
        loss = reg.weight * 0.5 * reg.penalty(homology_signature(w, reg.sigma))  # g = 0.5: any nonzero factor
        loss.backward()
    return step


def peer_step(reg: HCVQRegularizer):
    """The public code's signature: torch-topological VR diagrams, mean H0 death, narrow-Gaussian count."""
    try:
        from torch_topological.nn import VietorisRipsComplex
    except ImportError:
        return None
    vr = VietorisRipsComplex(dim=1)

    def step(w: torch.Tensor) -> None:
        dgms = vr(w)
        mu0 = dgms[0].diagram[:, 1].mean()
        life = dgms[1].diagram[:, 1] - dgms[1].diagram[:, 0]
        n1 = life.numel() - torch.exp(-0.5 * (life / reg.sigma) ** 2).sum()
        loss = 0.5 * ((n1 - reg.target_n1) ** 2 + reg.mu_weight * (mu0 - reg.target_mu) ** 2)
        loss.backward()
    return step


def trained_codebook(num_codes: int, dim: int) -> torch.Tensor:
    """Codebook of the notebook's digits VQ-VAE after 2 epochs of plain training."""
    from vqlab.data import load_digits
    from vqlab.models import build_vqvae
    from vqlab.quantizers import VectorQuantizer
    from vqlab.train import train

    data = load_digits()
    model = build_vqvae(VectorQuantizer(num_codes, dim), arch="conv")
    train(model, data.images(data.x_train), epochs=2, lr=8e-4, seed=0, progress=False)
    return model.quantizer.codebook.detach().clone()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--codes", type=int, default=128)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--device", default="cpu", help="cpu (default), auto or cuda[:N] for vqlab's side")
    args = parser.parse_args()
    device = resolve_device(args.device)
    vqlab.seed_everything(0)
    k, d = args.codes, args.dim
    gen = torch.Generator().manual_seed(0)
    codebooks = {"gaussian N(0,1)": torch.randn(k, d, generator=gen),
                 "init U(-1/K,1/K)": torch.empty(k, d).uniform_(-1 / k, 1 / k, generator=gen),
                 "digits, 2 epochs": trained_codebook(k, d)}
    reg = HCVQRegularizer()
    ours, peer = hcvq_step(reg), peer_step(reg)
    print(f"one HC-VQ step (forward + backward), K={k}, d={d}, median of {args.repeats}, "
          f"torch threads={torch.get_num_threads()}, vqlab on {device}")
    print("times in ms, wall / CPU of this process; peer = the public code's signature via torch-topological")
    print(f"{'codebook':<18} {'H1 bars':>7} {'vqlab.hcvq':>16} {'peer':>16}")
    for name, w in codebooks.items():
        bars = homology_signature(w).pairs[1][0].numel()
        t_ours = "{:.1f} / {:.1f}".format(*(1e3 * t for t in _time(ours, w.to(device), args.repeats)))
        t_peer = "n/a" if peer is None else "{:.1f} / {:.1f}".format(*(1e3 * t for t in _time(peer, w, args.repeats)))
        print(f"{name:<18} {bars:>7} {t_ours:>16} {t_peer:>16}")


if __name__ == "__main__":
    main()
