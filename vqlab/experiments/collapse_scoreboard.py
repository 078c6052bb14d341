"""Notebook 08's codebook-collapse scoreboard: every fix of the earlier notebooks, plus FSQ
(arXiv:2309.15505) and the rotation trick (arXiv:2410.06424), around the SAME conv encoder/decoder with
the same budget and seeds.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import Tensor

from vqlab._checks import check_choice, check_int, check_tensor
from vqlab.experiments.driver import Comparison, Factory, Trial, compare
from vqlab.hcvq import HCVQRegularizer
from vqlab.models import build_vqvae
from vqlab.quantizers import EMQuantizer, FSQuantizer, PosteriorQuantizer, SoftVectorQuantizer, VectorQuantizer
from vqlab.train import evaluate

__all__ = ["SCOREBOARD", "scoreboard_trial", "scoreboard_metrics", "scoreboard", "usage_curves"]

#: Notebook 08's rows, in teaching order (the notebook that introduced each fix in brackets): plain VQ,
#: EMA codebook, k-means++ init, dead-code restart (01), EM soft assignments (02), soft VQ (03), neural
#: gas and normalised fuzzy c-means posteriors (04), the HC-VQ regularizer (06), FSQ and the rotation trick.
SCOREBOARD = ("plain", "EMA", "k-means++", "dead-code restart", "EM", "soft VQ", "neural gas",
              "normalised fuzzy c-means", "HC-VQ", "FSQ", "rotation trick")


def scoreboard_trial(name: str, seed: int, *, num_codes: int = 64, code_dim: int = 3,
                     fsq_levels: Sequence[int] = (4, 4, 4), channels: int = 16, beta: float = 0.25,
                     restart_after: int = 20, temperature: float = 0.1, noise_std: float = 0.1,
                     init_log_var: float = -2.0, lam: float = 3.0, m: float = 2.0, period: int = 20,
                     target_betti: float = 100.0, target_mu: float = 0.5, track_every: int = 5) -> Trial:
    """One row of notebook 08's scoreboard as a :class:`Trial`: the conv VQ-VAE of
    :func:`vqlab.models.build_vqvae` (``arch="conv"``, ``channels``; 8x8 digits -> 4x4 grid of
    ``code_dim``-dim latents) around the row's quantizer, weights and quantizer seeded with ``seed``.

    The quantizers (K = ``num_codes``, D = ``code_dim``, commitment weight ``beta`` wherever there is one):

    * ``"plain"``: :class:`~vqlab.quantizers.VectorQuantizer` (straight-through, codebook loss);
      ``"EMA"``: ``codebook_update="ema"``; ``"k-means++"``: ``init="kmeans++"``;
      ``"dead-code restart"``: ``restart_after`` steps; ``"rotation trick"``: ``rotation_trick=True``.
    * ``"EM"``: :class:`~vqlab.quantizers.EMQuantizer` with ``temperature`` (sampled decoder input).
    * ``"soft VQ"``: :class:`~vqlab.quantizers.SoftVectorQuantizer` (``noise_std``, per-code learned
      ``log sigma_k^2`` starting at ``init_log_var``; the conv encoder has no variance head, so
      ``build_vqvae(..., variance_head=False)``).
    * ``"neural gas"`` (range ``lam``), ``"normalised fuzzy c-means"`` (fuzzifier ``m``):
      :class:`~vqlab.quantizers.PosteriorQuantizer` (``"neural_gas"``, ``"fcm_normalized"``).
    * ``"HC-VQ"``: plain VQ plus :class:`~vqlab.hcvq.HCVQRegularizer` (paper mode, ``period``,
      ``target_betti``, ``target_mu``, logged every ``track_every`` steps) as ``extra_losses``.
    * ``"FSQ"``: :class:`~vqlab.quantizers.FSQuantizer` (``fsq_levels``, implicit K = prod(levels)); its
      D is ``len(fsq_levels)``, which must equal ``code_dim`` so that every row has the same nets.

    Raises:
        ValueError: an unknown ``name`` (the message lists :data:`SCOREBOARD`), or
            ``len(fsq_levels) != code_dim``.
    """
    check_choice("name", name, SCOREBOARD)
    seed = check_int("seed", seed, 0)
    if len(fsq_levels) != code_dim:
        raise ValueError(f"fsq_levels must have code_dim = {code_dim} entries (FSQ's D is len(levels)), "
                         f"got {tuple(fsq_levels)!r}")
    k, d = num_codes, code_dim
    vq = {"plain": {}, "EMA": {"codebook_update": "ema"}, "k-means++": {"init": "kmeans++"},
          "dead-code restart": {"restart_after": restart_after}, "rotation trick": {"rotation_trick": True},
          "HC-VQ": {}}
    hooks: list = []
    variance_head = True
    if name in vq:
        quantizer = VectorQuantizer(k, d, beta=beta, seed=seed, **vq[name])
    elif name == "EM":
        # the codebook loss notebook 08 was run with (EMQuantizer's default is now the EM M step, "ema")
        quantizer = EMQuantizer(k, d, temperature=temperature, beta=beta, codebook_update="gradient", seed=seed)
    elif name == "soft VQ":
        quantizer = SoftVectorQuantizer(k, d, noise_std=noise_std, init_log_var=init_log_var, beta=beta, seed=seed)
        variance_head = False
    elif name == "neural gas":
        quantizer = PosteriorQuantizer(k, d, posterior="neural_gas", lam=lam, beta=beta, seed=seed)
    elif name == "normalised fuzzy c-means":
        quantizer = PosteriorQuantizer(k, d, posterior="fcm_normalized", m=m, beta=beta, seed=seed)
    else:  # FSQ
        quantizer = FSQuantizer(fsq_levels)
    model = build_vqvae(quantizer, arch="conv", channels=channels, variance_head=variance_head, seed=seed)
    if name == "HC-VQ":
        hooks = [HCVQRegularizer(target_betti=target_betti, target_mu=target_mu, period=period,
                                 track_every=track_every)]
    return Trial(model, extra_losses=hooks, callbacks=[h.callback for h in hooks])


def scoreboard_metrics(trial: Trial, x_test: Tensor) -> dict[str, float]:
    """Test-set ``recon`` (MSE), ``perplexity`` and ``codes_used`` of the hard codes
    (:func:`vqlab.train.evaluate`) and ``usage_fraction = codes_used / K`` (K of the trial's quantizer:
    ``prod(levels)`` for FSQ)."""
    result = evaluate(trial.model, x_test, device=trial.device)
    k = trial.model.quantizer.num_codes
    return {"recon": result["recon"], "perplexity": result["perplexity"], "codes_used": result["codes_used"],
            "usage_fraction": result["codes_used"] / k}


def scoreboard(x_train: Tensor, x_test: Tensor, *, names: Sequence[str] = SCOREBOARD,
               seeds: Sequence[int] = (0, 1, 2), epochs: int = 4, batch_size: int = 64, lr: float = 2e-3,
               num_codes: int = 64, code_dim: int = 3, fsq_levels: Sequence[int] = (4, 4, 4),
               channels: int = 16, device: str = "auto") -> Comparison:
    """Notebook 08's scoreboard: every row ``names`` (default :data:`SCOREBOARD`) of
    :func:`scoreboard_trial` on images ``x_train [N, 1, 8, 8]`` for every seed through :func:`compare`
    (one budget: ``epochs``, ``batch_size``, ``lr``), measured by :func:`scoreboard_metrics` on ``x_test``,
    plus ``train_seconds`` (``compare(..., timing=True)``). The per-step usage of each run is in
    ``comparison.trials[name][i].history.steps`` (see :func:`usage_curves`)."""
    check_tensor("x_train", x_train, ndim=4)
    for name in names:
        check_choice("names", name, SCOREBOARD)
    levels = tuple(fsq_levels)

    def factory(name: str) -> Factory:
        return lambda seed: scoreboard_trial(name, seed, num_codes=num_codes, code_dim=code_dim,
                                             fsq_levels=levels, channels=channels)

    return compare({name: factory(name) for name in names}, x_train, x_test, seeds=seeds, epochs=epochs,
                   batch_size=batch_size, lr=lr, measure=scoreboard_metrics, device=device, timing=True)


def usage_curves(comparison: Comparison, *, metric: str = "codes_used", normalize: bool = True
                 ) -> dict[str, np.ndarray]:
    """Per variant, the mean over seeds of a per-step training log ``[steps]`` (``metric``:
    ``"codes_used"`` = distinct codes in the batch, or ``"perplexity"`` of the batch's usage), divided by
    the variant's K when ``normalize`` (so FSQ's implicit codebook compares with the others)."""
    check_choice("metric", metric, ("codes_used", "perplexity"))
    curves = {}
    for name, trials in comparison.trials.items():
        y = np.mean([np.asarray(t.history.steps[metric]) for t in trials], 0)
        curves[name] = y / trials[0].model.quantizer.num_codes if normalize else y
    return curves
