"""Notebook 04's experiment (Badran 2021, master thesis, ch. 5): neural gas and fuzzy c-means posteriors
inside the digits VQ-VAE, from each of the three codebook starts.

One definition for the notebook and for ``scripts/04_start_grid.py`` (its appendix run with more seeds):
the model (:func:`posterior_vqvae`), its training budget (:data:`TRAINING`), the posterior rows
(:data:`POSTERIOR_ROWS`, with notebook 04's final neural-gas range :data:`NG_LAMBDA` and fuzzifier
:data:`FCM_M`), the codebook starts (:data:`STARTS`) and the grid of both (:func:`start_grid`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from vqlab.models import build_vqvae
from vqlab.quantizers import PosteriorQuantizer

__all__ = ["posterior_vqvae", "NG_LAMBDA", "FCM_M", "TRAINING", "STEPS_PER_RUN", "POSTERIOR_ROWS", "STARTS",
           "start_grid"]

#: Notebook 04's neural-gas range lambda: the thesis's own value (ch. 6, with lambda = 10 as the other one tried).
NG_LAMBDA = 3.0
#: Notebook 04's fuzzifier m for the fuzzy c-means posteriors: the thesis states none; 1.5 is this course's choice.
FCM_M = 1.5
#: The training budget of every run of notebook 04's digits experiment (passed to ``experiments.compare``).
TRAINING = {"epochs": 8, "batch_size": 64, "lr": 2e-3}
#: Optimizer steps of one run on the 1347 training digits: 8 epochs of ceil(1347 / 64) = 22 batches.
STEPS_PER_RUN = 8 * 22

#: Row name -> quantizer settings of :func:`posterior_vqvae` (thesis eqs. 5.5, 4.3, 4.6, 4.7; the last row
#: anneals lambda from 8 to 0.5 over the run, one step per optimizer step).
POSTERIOR_ROWS: dict[str, dict[str, object]] = {
    "vanilla": {"posterior": "hard"},
    "neural gas": {"posterior": "neural_gas", "lam": NG_LAMBDA},
    "fcm (4.6)": {"posterior": "fcm", "m": FCM_M},
    "norm. fcm (4.7)": {"posterior": "fcm_normalized", "m": FCM_M},
    "neural gas 8->0.5": {"posterior": "neural_gas", "lam": 8.0, "lam_final": 0.5, "lam_steps": STEPS_PER_RUN},
}

#: Short name -> ``init`` of the codebook: U(-1/K, 1/K) of the PyTorch ports, U(-sqrt(3/D), sqrt(3/D)) of
#: DeepMind's reference Sonnet/Haiku VQ-VAE, and k-means++ on the first batch of encoder outputs.
STARTS: dict[str, str] = {"U(1/K)": "uniform", "var. scaling": "variance_scaling", "k-means++": "kmeans++"}


def posterior_vqvae(seed: int, *, posterior: str = "hard", lam: float = 1.0, lam_final: float | None = None,
                    lam_steps: int | None = None, m: float = 2.0, init: str = "uniform", num_codes: int = 128,
                    code_dim: int = 8, codes_per_image: int = 4, beta: float = 0.25, eta: float = 1.0,
                    hidden: tuple[int, ...] = (128,)) -> nn.Module:
    """Notebook 04's digits VQ-VAE: :func:`vqlab.models.build_vqvae` (MLP, ``codes_per_image`` latent
    vectors of dimension ``code_dim`` per image) around a
    :class:`~vqlab.quantizers.PosteriorQuantizer` (``posterior``, ``lam``/``lam_final``/``lam_steps``,
    ``m``, ``init``, the commitment weight ``beta`` (the thesis's alpha) and ``eta``). Same nets for every
    posterior."""
    quantizer = PosteriorQuantizer(num_codes, code_dim, posterior=posterior, lam=lam, lam_final=lam_final,
                                   lam_steps=lam_steps, m=m, eta=eta, beta=beta, init=init, seed=seed)
    return build_vqvae(quantizer, latent_shape=(codes_per_image, code_dim), hidden=hidden, seed=seed)


def start_grid(posteriors: Sequence[str], starts: Sequence[str]) -> dict[str, Callable[[int], nn.Module]]:
    """Factories ``seed -> model`` for every posterior row (keys of :data:`POSTERIOR_ROWS`) from every start
    (keys of :data:`STARTS`), named ``"<posterior>, <start>"``, for :func:`vqlab.experiments.compare`.
    The same seed gives the same encoder and decoder weights in every row (the start changes only the codebook).
    """
    unknown = [p for p in posteriors if p not in POSTERIOR_ROWS] + [s for s in starts if s not in STARTS]
    if unknown or not posteriors or not starts:
        raise ValueError(f"posteriors must name rows of {list(POSTERIOR_ROWS)} and starts keys of {list(STARTS)}, "
                         f"at least one each; unknown: {unknown}")

    def factory(rows: dict[str, object], init: str) -> Callable[[int], nn.Module]:
        return lambda seed: posterior_vqvae(seed, init=init, **rows)

    return {f"{p}, {s}": factory(POSTERIOR_ROWS[p], STARTS[s]) for s in starts for p in posteriors}
