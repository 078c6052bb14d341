"""The frontier (issue 27): the quantizers practitioners adopted since 2024 on notebook 08's conv VQ-VAE, and
the large-codebook experiment (K = 4096 codes on the digits, 64 times the usual).

* :func:`frontier_trial` builds one new row of the scoreboard (:data:`FRONTIER`): SimVQ (arXiv:2411.02038),
  IBQ (arXiv:2412.02692), LFQ (arXiv:2310.05737), BSQ (arXiv:2406.07548), OptVQ's Sinkhorn assignment
  (arXiv:2412.15195) and CVQ-VAE's anchored re-initialisation (arXiv:2307.15139), around the same conv
  encoder and decoder as :func:`vqlab.experiments.scoreboard_trial`.
* :func:`frontier_scoreboard` trains the new rows (and any scoreboard row) like :func:`vqlab.experiments.scoreboard`.
* :func:`large_codebook` trains :data:`LARGE_CODEBOOK` rows with K codes (64, 4096); ``scripts/08_large_codebook.py`` saves its result for notebook 08.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import binom
from torch import Tensor

from vqlab._checks import check_choice, check_int, check_tensor
from vqlab.experiments.collapse_scoreboard import SCOREBOARD, scoreboard_trial
from vqlab.experiments.driver import Comparison, Factory, Trial, compare
from vqlab.models import build_vqvae
from vqlab.quantizers import (AnchoredQuantizer, BSQuantizer, IBQuantizer, LFQuantizer, SimVQuantizer,
                              SinkhornQuantizer)
from vqlab.train import evaluate

__all__ = ["FRONTIER", "BINARY_ROWS", "frontier_trial", "frontier_metrics", "frontier_scoreboard", "LARGE_CODEBOOK",
           "K64_ROW", "row_name", "large_codebook",
           "uniform_ceiling"]

#: The new rows of notebook 08's scoreboard, in the order of their papers' appearance.
FRONTIER = ("SimVQ", "IBQ", "LFQ", "BSQ", "OptVQ", "CVQ")
#: The rows whose codebook is the binary corners ``{-s, +s}^D``: K = 2^D, so their D is log2 K.
BINARY_ROWS = ("LFQ", "BSQ")
#: The rows :func:`large_codebook` trains with K codes: the collapse baseline and its classic fixes, FSQ, and
#: the new quantizers.
LARGE_CODEBOOK = ("plain", "dead-code restart", "FSQ", "rotation trick", *FRONTIER)
#: The name of :func:`large_codebook`'s reference row: plain VQ with the scoreboard's K.
K64_ROW = "plain, K = 64"


def frontier_trial(name: str, seed: int, *, num_codes: int = 64, code_dim: int = 3, channels: int = 16,
                   beta: float = 0.25) -> Trial:
    """One new row of notebook 08's scoreboard as a :class:`Trial`: the conv VQ-VAE of
    :func:`vqlab.models.build_vqvae` (``arch="conv"``, ``channels``; 8x8 digits -> a 4x4 grid of latents), the
    weights seeded with ``seed``, around the row's quantizer (K = ``num_codes``, commitment weight ``beta``):

    * ``"SimVQ"``: :class:`~vqlab.quantizers.SimVQuantizer` (D = ``code_dim``);
    * ``"IBQ"``: :class:`~vqlab.quantizers.IBQuantizer` (D = ``code_dim``);
    * ``"LFQ"``, ``"BSQ"``: :class:`~vqlab.quantizers.LFQuantizer`, :class:`~vqlab.quantizers.BSQuantizer`
      with D = log2 K (their codebook is ``{-s, +s}^D``: K must be a power of two, and the encoder's output
      width is then log2 K, not ``code_dim``);
    * ``"OptVQ"``: :class:`~vqlab.quantizers.SinkhornQuantizer` (D = ``code_dim``);
    * ``"CVQ"``: :class:`~vqlab.quantizers.AnchoredQuantizer`, nearest anchors (D = ``code_dim``).

    Each quantizer keeps its defaults otherwise (see its class). Raises ``ValueError`` for an unknown
    ``name`` (the message lists :data:`FRONTIER`) or a binary row with a ``num_codes`` that is not a power of 2.
    """
    check_choice("name", name, FRONTIER)
    seed, k, d = check_int("seed", seed, 0), check_int("num_codes", num_codes, 2), check_int("code_dim", code_dim)
    if name in BINARY_ROWS:
        bits = round(math.log2(k))
        if 2 ** bits != k:
            raise ValueError(f"num_codes must be a power of 2 for {name} (K = 2^D), got {num_codes!r}")
        quantizer = (LFQuantizer if name == "LFQ" else BSQuantizer)(bits, beta=beta)
    elif name == "SimVQ":
        quantizer = SimVQuantizer(k, d, beta=beta, seed=seed)
    elif name == "IBQ":
        quantizer = IBQuantizer(k, d, beta=beta, seed=seed)
    elif name == "OptVQ":
        quantizer = SinkhornQuantizer(k, d, beta=beta, seed=seed)
    else:
        quantizer = AnchoredQuantizer(k, d, beta=beta, seed=seed)
    return Trial(build_vqvae(quantizer, arch="conv", channels=channels, seed=seed))


def frontier_metrics(trial: Trial, x_test: Tensor) -> dict[str, float]:
    """Test-set ``recon`` (MSE), ``perplexity`` and ``codes_used`` of the hard codes
    (:func:`vqlab.train.evaluate`), ``usage_fraction = codes_used / K``, ``perplexity_fraction =
    perplexity / K`` and ``code_dim`` (the latent width D of the trial's quantizer)."""
    result = evaluate(trial.model, x_test, device=trial.device)
    k = trial.model.quantizer.num_codes
    return {"recon": result["recon"], "perplexity": result["perplexity"], "codes_used": result["codes_used"],
            "usage_fraction": result["codes_used"] / k, "perplexity_fraction": result["perplexity"] / k,
            "code_dim": float(trial.model.quantizer.code_dim)}


def _factory(name: str, *, num_codes: int, code_dim: int, channels: int) -> Factory:
    """``seed -> Trial`` of a :data:`FRONTIER` row or a scoreboard row (FSQ with ``round(K^(1/D))`` levels per
    dimension, so that FSQ has the same K when K is a D-th power)."""
    if name in FRONTIER:
        return lambda seed: frontier_trial(name, seed, num_codes=num_codes, code_dim=code_dim, channels=channels)
    levels = (round(num_codes ** (1 / code_dim)),) * code_dim
    return lambda seed: scoreboard_trial(name, seed, num_codes=num_codes, code_dim=code_dim, fsq_levels=levels,
                                         channels=channels)


def frontier_scoreboard(x_train: Tensor, x_test: Tensor, *, names: Sequence[str] = FRONTIER,
                        seeds: Sequence[int] = (0, 1, 2), epochs: int = 8, batch_size: int = 64, lr: float = 2e-3,
                        num_codes: int = 64, code_dim: int = 3, channels: int = 16, device: str = "auto") -> Comparison:
    """Rows ``names`` (any of :data:`FRONTIER` and :data:`vqlab.experiments.SCOREBOARD`) on images
    ``x_train [N, 1, 8, 8]`` for every seed through :func:`compare` with one budget (``epochs``, ``batch_size``,
    ``lr``; the defaults are notebook 08's), measured by :func:`frontier_metrics` on ``x_test``, plus
    ``train_seconds``. The FSQ row gets ``round(K^(1/D))`` levels per dimension."""
    check_tensor("x_train", x_train, ndim=4)
    for name in names:
        check_choice("names", name, (*FRONTIER, *SCOREBOARD))
    variants = {name: _factory(name, num_codes=num_codes, code_dim=code_dim, channels=channels) for name in names}
    return compare(variants, x_train, x_test, seeds=seeds, epochs=epochs, batch_size=batch_size, lr=lr,
                   measure=frontier_metrics, device=device, timing=True)


def row_name(name: str, num_codes: int) -> str:
    """The name of row ``name`` trained with ``num_codes`` codes in :func:`large_codebook`: ``"name, K = k"``."""
    return f"{name}, K = {num_codes}"


def large_codebook(x_train: Tensor, x_test: Tensor, *, names: Sequence[str] = LARGE_CODEBOOK,
                   num_codes: int = 4096, seeds: Sequence[int] = (0, 1, 2, 3, 4), epochs: int = 8,
                   batch_size: int = 64, lr: float = 2e-3, code_dim: int = 3, channels: int = 16,
                   device: str = "auto") -> Comparison:
    """The large-codebook experiment: every row ``names`` (of :data:`LARGE_CODEBOOK`, or any scoreboard or
    frontier row) with K = ``num_codes`` codes, named :func:`row_name` (``"plain, K = 4096"``), with notebook
    08's encoder, decoder and budget and the same ``seeds`` (so :meth:`Comparison.paired` pairs rows trained
    with different K: :data:`K64_ROW` is plain VQ with K = 64). Measured by :func:`frontier_metrics` on
    ``x_test`` and, as ``train_perplexity_fraction``, the perplexity / K of the codes of ``x_train`` (more
    latents: see :func:`uniform_ceiling`). FSQ gets ``round(K^(1/D))`` levels per dimension (4 x 4 x 4 for
    K = 64, 16 x 16 x 16 for K = 4096, D = 3); LFQ and BSQ have D = log2 K (6 and 12)."""
    check_tensor("x_train", x_train, ndim=4)
    for name in names:
        check_choice("names", name, (*FRONTIER, *SCOREBOARD))
    k = check_int("num_codes", num_codes, 2)

    def measure(trial: Trial, x: Tensor) -> dict[str, float]:
        train_codes = evaluate(trial.model, x_train, device=trial.device)
        return {**frontier_metrics(trial, x),
                "train_perplexity_fraction": train_codes["perplexity"] / trial.model.quantizer.num_codes}

    variants = {row_name(name, k): _factory(name, num_codes=k, code_dim=code_dim, channels=channels)
                for name in names}
    return compare(variants, x_train, x_test, seeds=seeds, epochs=epochs, batch_size=batch_size, lr=lr,
                   measure=measure, device=device, timing=True)


def uniform_ceiling(num_codes: int, num_latents: int) -> dict[str, float]:
    """What a perfectly uniform code shows on ``n = num_latents`` latents drawn from K = ``num_codes`` codes
    with equal probability: the expected fraction of codes used, ``1 - (1 - 1/K)^n``, and the perplexity / K
    of the empirical counts, ``exp(E[H_hat]) / K`` with the expected plug-in entropy
    ``E[H_hat] = -K sum_c Binom(c; n, 1/K) (c/n) log(c/n)`` (exact; the plug-in entropy is biased low when n
    is not much larger than K). For K = 4096: 0.83 and 0.72 on the 450 test digits' 7200 latents, 0.995 and
    0.91 on the 1347 training digits' 21 552: a perplexity / K of 0.9 can be measured only on the training set."""
    k, n = check_int("num_codes", num_codes), check_int("num_latents", num_latents)
    counts = np.arange(1, n + 1)
    share = counts / n
    entropy = -k * float(np.sum(binom.pmf(counts, n, 1.0 / k) * share * np.log(share)))
    return {"usage_fraction": 1.0 - (1.0 - 1.0 / k) ** n, "perplexity_fraction": math.exp(entropy) / k}
