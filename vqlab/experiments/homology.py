"""Notebook 05's experiments (the homological regularizer of Hoagland, Liu & Montelli; code at
github.com/BCHoagland/TDA-Project): the digits latent-space comparison (AE / AE + L_top / disk only / VAE)
with its coverage and sample-quality measurements.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from vqlab import topology
from vqlab._checks import check_choice, check_int
from vqlab.experiments.driver import Comparison, Trial, compare
from vqlab.metrics import coverage, energy_distance, sample_quality, sample_unit_ball
from vqlab.models import VAE, Autoencoder
from vqlab.nets import MLPDecoder, MLPEncoder
from vqlab.train import eval_mode, evaluate, seed_everything

__all__ = ["LATENT_VARIANTS", "latent_model", "prior_samples", "latent_metrics", "latent_comparison",
           "latent_pictures"]

LATENT_VARIANTS = ("AE", "AE + L_top", "AE + disk only", "VAE")


def latent_model(variant: str, seed: int = 0, *, latent_dim: int = 2, hidden: tuple[int, ...] = (64, 64),
                 weight: float = 0.1, kl_weight: float = 0.1, in_dim: int = 64) -> Trial:
    """One model of the paper's comparison on flat images ``[N, in_dim]``, as a :class:`Trial` (its
    ``extra_losses`` carry the regularizer). Weights are seeded with ``seed``.

    "AE": :class:`vqlab.models.Autoencoder` (MLP, two hidden layers of 64 as in the paper, ReLU instead of
    ELU); "AE + L_top": the same with :class:`vqlab.topology.HomologicalRegularizer` (``weight``: the
    paper's λ, the course's w; ``reduction="mean"``) as the ``extra_losses`` hook; "AE + disk only": the
    hinge term alone (paper Appendix A-A); "VAE": :class:`vqlab.models.VAE` with KL weight ``kl_weight``.
    """
    check_choice("variant", variant, LATENT_VARIANTS)
    check_int("latent_dim", latent_dim)
    seed_everything(check_int("seed", seed, 0))
    hidden = tuple(hidden)
    if variant == "VAE":
        encoder = MLPEncoder(in_dim, 2 * latent_dim, hidden)
        return Trial(VAE(encoder, MLPDecoder(latent_dim, in_dim, hidden[::-1]), latent_dim, kl_weight=kl_weight))
    model = Autoencoder(MLPEncoder(in_dim, latent_dim, hidden), MLPDecoder(latent_dim, in_dim, hidden[::-1]))
    hooks = {"AE": [], "AE + L_top": [topology.HomologicalRegularizer(weight)],
             "AE + disk only": [topology.HomologicalRegularizer(weight, topological=False)]}[variant]
    return Trial(model, extra_losses=hooks)


def prior_samples(variant: str, n: int, dim: int, seed: int = 0) -> Tensor:
    """Where each variant samples its latents from: uniform on the unit ball for the regularized AEs
    (paper §III), a standard Gaussian for the plain AE (as in the paper) and the VAE (its prior). The
    draws come from a generator seeded with ``1000 + seed``: the same for every variant of a seed."""
    check_choice("variant", variant, LATENT_VARIANTS)
    generator = torch.Generator().manual_seed(1000 + check_int("seed", seed, 0))
    if variant in ("AE + L_top", "AE + disk only"):
        return sample_unit_ball(n, dim, generator)
    return torch.randn(n, dim, generator=generator)


@torch.no_grad()
def latent_metrics(trial: Trial, x_test: Tensor, predict_proba, n_samples: int = 1000,
                   radius: float = 0.1) -> dict[str, float]:
    """What the paper only shows in pictures, for one trained variant:

    * ``recon``: test MSE; ``in_ball``: fraction of test latents with ‖z‖ ≤ 1;
    * ``coverage``: fraction of ``n_samples`` prior samples (:func:`prior_samples`) with a test latent
      within ``radius`` (:func:`vqlab.metrics.coverage`); ``energy``: energy distance between test latents
      and the prior samples (:func:`vqlab.metrics.energy_distance`);
    * ``confidence``, ``class_entropy``: :func:`vqlab.metrics.sample_quality` of the images decoded from the
      prior samples, judged by ``predict_proba`` (a classifier trained on the real digits).
    """
    model = trial.model
    with eval_mode(model):
        z = model.encode(x_test)
        s = prior_samples(trial.name, n_samples, z.shape[1], trial.seed)
        imgs = model.decoder(s)
    return {"recon": evaluate(model, x_test, device=trial.device)["recon"],
            "in_ball": float((z.norm(dim=1) <= 1).float().mean()),
            "coverage": coverage(z, s, radius), "energy": energy_distance(z, s),
            **sample_quality(predict_proba(imgs.numpy()))}


def latent_comparison(x_train: Tensor, x_test: Tensor, predict_proba,
                      variants: Sequence[str] = LATENT_VARIANTS, seeds: Sequence[int] = (0, 1, 2),
                      latent_dim: int = 2, epochs: int = 40, lr: float = 3e-3, batch_size: int = 128,
                      weight: float = 0.1, kl_weight: float = 0.1, n_samples: int = 1000,
                      radius: float = 0.1, device: str = "auto") -> Comparison:
    """Every variant of :func:`latent_model` for every seed through :func:`compare` (the regularizer as
    an ``extra_losses`` hook), measured by :func:`latent_metrics`."""
    in_dim = x_train.shape[1]

    def factory(variant):
        return lambda seed: latent_model(variant, seed, latent_dim=latent_dim, weight=weight, kl_weight=kl_weight,
                                         in_dim=in_dim)

    def measure(trial: Trial, x: Tensor) -> dict[str, float]:
        return latent_metrics(trial, x, predict_proba, n_samples=n_samples, radius=radius)

    return compare({v: factory(v) for v in variants}, x_train, x_test, seeds=seeds, epochs=epochs,
                   batch_size=batch_size, lr=lr, measure=measure, device=device)


@torch.no_grad()
def latent_pictures(comparison: Comparison, x_test: Tensor, n_samples: int = 40
                    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """For the first seed of every variant: the test latents ``[N, d]`` and ``n_samples`` images decoded
    from the variant's prior samples (the draws :func:`latent_metrics` scored), as numpy arrays."""
    latents, samples = {}, {}
    for name, trials in comparison.trials.items():
        trial = trials[0]
        with eval_mode(trial.model):
            z = trial.model.encode(x_test)
            s = prior_samples(name, n_samples, z.shape[1], trial.seed)
            latents[name], samples[name] = z.numpy(), trial.model.decoder(s).numpy()
    return latents, samples
