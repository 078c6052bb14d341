"""Notebook 06's experiments (HC-VQ, Volkov 2022): the dry run against the regularized run.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from torch import Tensor, nn

from vqlab import topology
from vqlab._checks import check_int, check_tensor
from vqlab.experiments.driver import Comparison, Trial, compare
from vqlab.hcvq import HCVQRegularizer, homology_signature
from vqlab.models import build_vqvae
from vqlab.quantizers import VectorQuantizer
from vqlab.train import evaluate

__all__ = ["HCVQ_ARMS", "hcvq_trial", "hcvq_metrics", "hcvq_comparison"]

#: The two arms of notebook 06: name -> whether the HC-VQ term is active (a dry run tracks it only).
HCVQ_ARMS = {"dry run": False, "HC-VQ": True}


def hcvq_trial(seed: int, *, active: bool = True, num_codes: int = 128, code_dim: int = 64, beta: float = 0.25,
               init: str = "uniform", target_betti: float = 100.0, target_mu: float = 0.5, weight: float = 1.0,
               period: int = 200, mode: str = "paper", track_every: int = 1,
               snapshot_steps: Sequence[int] = ()) -> Trial:
    """The conv VQ-VAE of :func:`vqlab.models.build_vqvae` (8x8 digits -> 4x4 grid of ``code_dim``
    latents, a ``num_codes x code_dim`` codebook trained by gradient, §3: 128 x 64) with an
    :class:`~vqlab.hcvq.HCVQRegularizer` (``active=False``: dry run, same everything else) as a
    :class:`Trial` (``extra_losses=[regularizer]``). ``snapshot_steps``: steps at which a callback keeps
    the codebook's persistence diagrams in ``trial.artifacts["snapshots"]`` (``{step: diagrams}``)."""
    quantizer = VectorQuantizer(num_codes, code_dim, beta=beta, init=init, seed=seed)
    model = build_vqvae(quantizer, arch="conv", seed=seed)
    reg = HCVQRegularizer(target_betti=target_betti, target_mu=target_mu, weight=weight, period=period, mode=mode,
                          active=active, track_every=track_every)
    steps = {check_int("snapshot_steps", s, 0) for s in snapshot_steps}
    trial = Trial(model, extra_losses=[reg], artifacts={"snapshots": {}})

    def snapshot(model: nn.Module, step: int) -> dict[str, float]:
        if step in steps:
            trial.artifacts["snapshots"][step] = _finite_diagrams(model.quantizer.codebook.detach())
        return {}

    trial.callbacks = [reg.callback, snapshot]
    return trial


def _finite_diagrams(codebook: Tensor) -> list[np.ndarray]:
    dgms = topology.persistence_diagrams(codebook, maxdim=1)
    return [np.asarray(d)[np.isfinite(np.asarray(d)).all(1)] for d in dgms]


def hcvq_metrics(trial: Trial, x_test: Tensor) -> dict[str, float]:
    """:func:`vqlab.train.evaluate` on ``x_test`` plus the usage entropy ``E_z`` = log perplexity of the
    test codes and the final codebook's signature ``mu0``, ``beta1`` and persistent entropies ``pe0``,
    ``pe1``. Keeps the final codebook's diagrams (infinite bars dropped) in ``trial.artifacts["diagrams"]``."""
    result = evaluate(trial.model, x_test, device=trial.device)
    result["E_z"] = math.log(result["perplexity"])
    reg = trial.extra_losses[0]
    codebook = trial.model.quantizer.codebook.detach()
    sig = homology_signature(codebook, reg.sigma)
    result.update(mu0=float(sig.mu0), beta1=float(sig.beta1), pe0=sig.pe0, pe1=sig.pe1)
    trial.artifacts["diagrams"] = _finite_diagrams(codebook)
    return result


def hcvq_comparison(x: Tensor, x_test: Tensor, *, arms: Mapping[str, bool] | None = None,
                    seeds: Sequence[int] = (0, 1, 2), epochs: int = 10, batch_size: int = 64, lr: float = 8e-4,
                    num_codes: int = 128, code_dim: int = 64, beta: float = 0.25, init: str = "uniform",
                    target_betti: float = 100.0, target_mu: float = 0.5, weight: float = 1.0, period: int = 200,
                    mode: str = "paper", track_every: int = 1, snapshot_steps: Sequence[int] = (),
                    device: str = "auto") -> Comparison:
    """Notebook 06's comparison: every arm (name -> HC-VQ active?, default :data:`HCVQ_ARMS`) of
    :func:`hcvq_trial` on images ``x [N, 1, H, W]`` for every seed through :func:`compare`, measured by
    :func:`hcvq_metrics`. Each trial keeps its regularizer (``extra_losses[0]``, with its ``history``) and
    the diagrams in ``artifacts``."""
    check_tensor("x", x, ndim=4)
    arms = HCVQ_ARMS if arms is None else arms

    def factory(active: bool):
        return lambda seed: hcvq_trial(seed, active=active, num_codes=num_codes, code_dim=code_dim, beta=beta,
                                       init=init, target_betti=target_betti, target_mu=target_mu, weight=weight,
                                       period=period, mode=mode, track_every=track_every,
                                       snapshot_steps=snapshot_steps)

    return compare({name: factory(bool(active)) for name, active in arms.items()}, x, x_test, seeds=seeds,
                   epochs=epochs, batch_size=batch_size, lr=lr, measure=hcvq_metrics, device=device)
