"""Notebook 01's experiments (VQ-VAE, van den Oord et al. 2017, arXiv:1711.00937): the gradient paths, the
straight-through check, the codebook-collapse table (plain / EMA / k-means++ init / dead-code restart / the
reference initialisation) and how far each codeword travelled in training.

Equations refer to Badran, VQ-VAE with Neural Gas and Fuzzy c-Means, master thesis, Hochschule Mittweida,
2021 ("the thesis").
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from vqlab.experiments.driver import Comparison, Factory, Trial, compare
from vqlab.metrics import code_usage
from vqlab.models import build_vqvae
from vqlab.quantizers import VectorQuantizer
from vqlab.train import eval_mode, evaluate

__all__ = ["gradient_paths", "straight_through_check", "COLLAPSE_VARIANTS", "collapse_experiment", "usage_counts",
           "CodewordTravel", "codeword_travel"]


def gradient_paths(model, x: Tensor) -> dict[str, dict[str, bool]]:
    """Which parameters each named loss term of a VQ-VAE reaches (thesis eq. 5.4/5.5).

    For every term in ``model(x).losses`` the term alone is back-propagated and we record whether any
    parameter of ``encoder``, ``quantizer`` (the codebook) and ``decoder`` receives a non-zero gradient.
    Expected for hard VQ: ``recon`` -> encoder (through the straight-through estimator) and decoder;
    ``commitment`` -> encoder only; ``codebook`` -> codebook only.
    """
    parts = {"encoder": model.encoder, "codebook": model.quantizer, "decoder": model.decoder}
    with eval_mode(model):
        table = {}
        for term in model(x).losses:
            model.zero_grad(set_to_none=True)
            model(x).losses[term].backward()
            table[term] = {name: any(p.grad is not None and bool(p.grad.abs().sum() > 0)
                                     for p in part.parameters()) for name, part in parts.items()}
        model.zero_grad(set_to_none=True)
    return table


def straight_through_check(model, x: Tensor) -> dict[str, float | bool]:
    """The straight-through estimator, numerically: ``z_q = z_e + sg(e_k* - z_e)``.

    Returns the forward check (``z_q`` equals the chosen codewords) and the backward check: the
    gradient of the reconstruction loss w.r.t. the decoder input ``z_q`` is copied unchanged to the
    encoder output ``z_e`` (``max |dL/dz_q - dL/dz_e|``).
    """
    with eval_mode(model):
        out = model(x)
        g_zq, g_ze = torch.autograd.grad(out.losses["recon"], [out.quant.z_q, out.z_e])
        codewords = model.quantizer.codebook[out.quant.indices]
    return {"forward_z_q_is_codeword": bool(torch.allclose(out.quant.z_q, codewords, atol=1e-6)),
            "z_q_differs_from_z_e": bool((out.quant.z_q - out.z_e).abs().max() > 1e-6),
            "max_grad_difference": float((g_zq - g_ze).abs().max()),
            "gradient_copied": bool(torch.equal(g_zq, g_ze)),
            "gradient_nonzero": bool(g_ze.abs().sum() > 0)}


#: Notebook 01's side-by-side fixes for codebook collapse: ``VectorQuantizer`` keyword arguments. "plain" starts
#: in U(-1/K, 1/K), the initialiser of common PyTorch ports; "reference init" in the variance-scaling uniform
#: U(-sqrt(3/D), sqrt(3/D)) of DeepMind's Sonnet / Haiku VQ-VAE (see :class:`~vqlab.quantizers.Quantizer`).
COLLAPSE_VARIANTS: dict[str, dict] = {
    "plain": {},
    "EMA": {"codebook_update": "ema"},
    "k-means++ init": {"init": "kmeans++"},
    "dead-code restart": {"restart_after": 20},
    "reference init": {"init": "variance_scaling"},
    "reference init + restart": {"init": "variance_scaling", "restart_after": 20},
}


class _RecordChosen:
    """A forward hook on a quantizer: ``selected [K]`` marks the codes any training vector chose, over the whole
    run (a class, not a closure, so that a trial with it can be pickled)."""

    def __init__(self, num_codes: int) -> None:
        self.selected = torch.zeros(num_codes, dtype=torch.bool)

    def __call__(self, module: nn.Module, inputs: tuple, out) -> None:
        if module.training:
            self.selected.logical_or_(out.counts > 0)


def _collapse_factory(settings: dict, num_codes: int, code_dim: int, hidden: tuple[int, ...]) -> Factory:
    def make(seed: int) -> Trial:
        quantizer = VectorQuantizer(num_codes, code_dim, codebook_update=settings.get("codebook_update", "gradient"),
                                    init=settings.get("init", "uniform"),
                                    restart_after=settings.get("restart_after"), seed=seed)
        chosen = _RecordChosen(num_codes)
        quantizer.register_forward_hook(chosen)
        artifacts = {"initial_codebook": quantizer.codebook.detach().clone(), "selected": chosen.selected}
        return Trial(build_vqvae(quantizer, hidden=hidden, seed=seed), artifacts=artifacts)
    return make


def _collapse_measure(trial: Trial, x_test: Tensor) -> dict[str, float]:
    result = evaluate(trial.model, x_test, device=trial.device)
    return {k: result[k] for k in ("recon", "perplexity", "codes_used")}


def collapse_experiment(x_train: Tensor, x_test: Tensor, variants: dict[str, dict] | None = None,
                        seeds: Sequence[int] = (0, 1, 2), num_codes: int = 128, code_dim: int = 8,
                        epochs: int = 15, batch_size: int = 64, lr: float = 2e-3,
                        hidden: tuple[int, ...] = (128, 64), device: str = "auto") -> Comparison:
    """The MLP VQ-VAE of :func:`vqlab.models.build_vqvae` (one code per image) once per variant and seed
    through :func:`compare`; test reconstruction MSE, perplexity and codes used.

    Args:
        variants: name -> settings of the ``VectorQuantizer`` (keys ``codebook_update``, ``init``,
            ``restart_after``; default :data:`COLLAPSE_VARIANTS`).
        seeds: at least one seed; the same seeds are used for every variant.
    """
    variants = COLLAPSE_VARIANTS if variants is None else variants
    for name, settings in variants.items():
        unknown = set(settings) - {"codebook_update", "init", "restart_after"}
        if unknown:
            raise ValueError(f"variant {name!r} has unknown settings {sorted(unknown)}; expected "
                             "codebook_update, init or restart_after")
    factories = {name: _collapse_factory(settings, num_codes, code_dim, tuple(hidden))
                 for name, settings in variants.items()}
    return compare(factories, x_train, x_test, seeds=seeds, epochs=epochs, batch_size=batch_size, lr=lr,
                   measure=_collapse_measure, device=device)


@torch.no_grad()
def usage_counts(comparison: Comparison, x: Tensor) -> dict[str, np.ndarray]:
    """Per variant, the ``[K]`` code usage of ``x`` under the first seed's model (for
    :func:`vqlab.plotting.plot_usage`)."""
    out = {}
    for name, trials in comparison.trials.items():
        model = trials[0].model
        with eval_mode(model):
            idx = model.quantize(model.encode(x)).indices
        out[name] = code_usage(idx, model.quantizer.num_codes).numpy()
    return out


@dataclass
class CodewordTravel:
    """Where the codewords of one trained :func:`collapse_experiment` model went, code by code.

    Attributes:
        selected: ``[K]`` bool, whether any training vector chose code k (at any step of training).
        start, end: ``[K, D]`` the codebook before and after training (before: as constructed, i.e. before a
            k-means++ seeding).
        factor: ``[K]`` ``||e_k(end)|| / ||e_k(start)||``. distance: ``[K]`` ``||e_k(end) - e_k(start)||``.
    """

    selected: Tensor
    start: Tensor
    end: Tensor
    factor: Tensor
    distance: Tensor


def codeword_travel(trial: Trial) -> CodewordTravel:
    """How far each codeword of a trained :func:`collapse_experiment` trial moved, and whether it was ever chosen
    in training: a codeword that no vector chose gets no codebook gradient and, with EMA updates (van den Oord
    et al. 2017, App. A.1), counts and sums that decay together."""
    if not isinstance(trial, Trial) or "initial_codebook" not in trial.artifacts or "selected" not in trial.artifacts:
        raise TypeError("trial must be a Trial of collapse_experiment (with the artifacts 'initial_codebook' and "
                        f"'selected'), got {type(trial).__name__}")
    start = trial.artifacts["initial_codebook"]
    end = trial.model.quantizer.codebook.detach().to(start.device)
    return CodewordTravel(selected=trial.artifacts["selected"].clone(), start=start, end=end.clone(),
                          factor=end.norm(dim=1) / start.norm(dim=1), distance=(end - start).norm(dim=1))
