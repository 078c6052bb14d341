"""Experiments: one driver that trains named model factories over seeds, and one result type for the
metrics it measures (variants x seeds). Every training run goes through :func:`vqlab.train.train`.

:func:`compare` is the driver: ``variants`` maps a name to a factory ``seed -> model`` (or ``seed ->``
:class:`Trial` when the run needs ``extra_losses`` hooks or ``callbacks``); each variant is trained once
per seed, measured on the test data, and the numbers land in a :class:`Comparison` (values per seed,
mean, std, a text table, a plain dict for printing). The notebooks' experiments are thin wrappers around
it, grouped by notebook below. The interactive parts of the notebooks live in :mod:`vqlab.widgets`.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from vqlab import losses, topology
from vqlab._checks import check_choice, check_int, check_tensor
from vqlab.hcvq import HCVQRegularizer, homology_signature
from vqlab.metrics import code_usage, coverage, energy_distance, sample_quality, sample_unit_ball
from vqlab.models import VAE, Autoencoder, build_vqvae
from vqlab.nets import MLPDecoder, MLPEncoder
from vqlab.quantizers import EMQuantizer, FSQuantizer, PosteriorQuantizer, SoftVectorQuantizer, VectorQuantizer
from vqlab.train import History, eval_mode, evaluate, seed_everything, train

__all__ = [
    # the driver and its result
    "Trial", "Comparison", "compare",
    # notebook 01
    "gradient_paths", "straight_through_check", "COLLAPSE_VARIANTS", "collapse_experiment", "usage_counts",
    # notebook 02
    "ib_metrics", "ib_comparison",
    # notebook 04
    "posterior_vqvae",
    # notebook 05
    "LATENT_VARIANTS", "latent_model", "prior_samples", "latent_metrics", "latent_comparison",
    "latent_pictures",
    # notebook 06
    "HCVQ_ARMS", "hcvq_trial", "hcvq_metrics", "hcvq_comparison",
    # notebook 08
    "SCOREBOARD", "scoreboard_trial", "scoreboard_metrics", "scoreboard", "usage_curves",
]


# ---- The driver and its result ---------------------------------------------------------------------

@dataclass
class Trial:
    """One training run: the ``model`` and what :func:`vqlab.train.train` needs besides it.

    A factory passed to :func:`compare` returns a model or a ``Trial``; the driver fills in ``name``,
    ``seed``, ``device`` (the one it trains on), the training ``history``, ``seconds`` (the wall time of the
    :func:`vqlab.train.train` call) and the measured ``metrics``. ``artifacts`` holds what a callback or a measure keeps that is not a number (e.g. diagrams).
    """

    model: nn.Module
    extra_losses: Sequence = ()
    callbacks: Sequence = ()
    name: str = ""
    seed: int = 0
    device: str = "auto"
    history: History | None = None
    seconds: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, object] = field(default_factory=dict)


@dataclass
class Comparison:
    """Metrics over variants x seeds.

    Attributes:
        values: ``{variant: {metric: [one value per seed]}}``.
        seeds: the seeds, in the order of the values.
        trials: ``{variant: [Trial per seed]}`` (the trained models, histories); empty for rows that
            were not trained (e.g. the zoo's raw-pixel row).

    ``std`` is the **sample** standard deviation over seeds (``ddof=1``), and 0.0 with a single seed
    (no spread measured; the table then shows the mean alone).
    """

    values: dict[str, dict[str, list[float]]]
    seeds: tuple[int, ...]
    trials: dict[str, list[Trial]] = field(default_factory=dict)

    @property
    def variants(self) -> list[str]:
        return list(self.values)

    def metrics(self) -> list[str]:
        """Every metric name, in first-seen order."""
        return list(dict.fromkeys(m for row in self.values.values() for m in row))

    def _row(self, variant: str, metric: str) -> np.ndarray:
        if variant not in self.values:
            raise KeyError(f"no variant {variant!r}; the variants are {self.variants}")
        if metric not in self.values[variant]:
            raise KeyError(f"variant {variant!r} has no metric {metric!r}; it has {list(self.values[variant])}")
        return np.asarray(self.values[variant][metric], dtype=float)

    def mean(self, variant: str, metric: str) -> float:
        return float(np.mean(self._row(variant, metric)))

    def std(self, variant: str, metric: str) -> float:
        """Sample std over seeds (ddof=1); 0.0 for one seed."""
        v = self._row(variant, metric)
        return float(np.std(v, ddof=1)) if len(v) > 1 else 0.0

    def summary(self, variant: str, metric: str) -> tuple[float, float]:
        """``(mean, std)`` over seeds (std with ddof=1)."""
        return self.mean(variant, metric), self.std(variant, metric)

    def subset(self, variants: Sequence[str]) -> Comparison:
        """The same result restricted to ``variants`` (e.g. to draw one of them as a reference)."""
        return Comparison({v: self.values[v] for v in variants}, self.seeds,
                          {v: self.trials[v] for v in variants if v in self.trials})

    def to_dict(self, metrics: Sequence[str] | None = None, digits: int = 4) -> dict[str, dict[str, dict]]:
        """``{variant: {metric: {"mean", "std"}}}`` rounded to ``digits``: plain values for printing."""
        keys = self.metrics() if metrics is None else list(metrics)
        return {v: {m: {"mean": round(self.mean(v, m), digits), "std": round(self.std(v, m), digits)}
                    for m in keys if m in self.values[v]} for v in self.values}

    def table(self, metrics: Sequence[str] | None = None, *, digits: int | Mapping[str, int] = 3,
              titles: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
              scale: Mapping[str, float] | None = None, note: str | None = None) -> str:
        """A plain-text table, one row per variant: ``mean ± std`` over seeds of each metric.

        Args:
            metrics: the columns (default: every metric). digits: decimals, one int or per metric.
            titles: column titles per metric (default: the metric name). labels: row labels per variant.
            scale: a factor per metric applied before printing (e.g. 100 for accuracies in %).
            note: the last line (default: which seeds, and that std is the sample std).
        """
        keys = self.metrics() if metrics is None else list(metrics)
        titles, labels, scale = dict(titles or {}), dict(labels or {}), dict(scale or {})
        one_seed = len(self.seeds) == 1

        def cell(v: str, m: str) -> str:
            if m not in self.values[v]:
                return "-"
            nd = digits if isinstance(digits, int) else digits.get(m, 3)
            f = scale.get(m, 1.0)
            mean = f"{f * self.mean(v, m):.{nd}f}"
            return mean if one_seed else f"{mean} ± {f * self.std(v, m):.{nd}f}"

        head = ["variant"] + [titles.get(m, m) for m in keys]
        rows = [[labels.get(v, v)] + [cell(v, m) for m in keys] for v in self.values]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

        def line(r: list[str]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

        seeds = list(self.seeds)
        if note is None:
            note = f"(seed {seeds[0]})" if one_seed else f"(mean ± std over seeds {seeds}; sample std, ddof=1)"
        return "\n".join([line(head), *map(line, rows), note])


Factory = Callable[[int], "nn.Module | Trial"]
Measure = Callable[[Trial, Tensor], dict[str, float]]


def _default_measure(trial: Trial, x_test: Tensor) -> dict[str, float]:
    return evaluate(trial.model, x_test, device=trial.device)


def compare(variants: Mapping[str, Factory], x_train: Tensor, x_test: Tensor, *, seeds: Sequence[int] = (0, 1, 2),
            epochs: int = 10, steps: int | None = None, batch_size: int = 64, lr: float = 1e-3,
            measure: Measure | None = None, device: str = "auto", timing: bool = False) -> Comparison:
    """Train every variant once per seed with :func:`vqlab.train.train` and measure it on ``x_test``.

    Args:
        variants: name -> factory ``seed -> model`` or ``seed ->`` :class:`Trial` (a fresh model per call;
            the factory seeds its own weights, e.g. through :func:`vqlab.models.build_vqvae`).
        x_train, x_test: training and test inputs.
        seeds: at least one seed; the same seeds for every variant (also the ``seed`` of ``train``, which
            fixes the batch order).
        epochs, steps, batch_size, lr: passed to :func:`vqlab.train.train` (``steps``, when given, is the
            budget in optimizer steps instead of ``epochs``).
        measure: ``measure(trial, x_test) -> {metric: value}`` after training (default
            :func:`vqlab.train.evaluate`: every loss term, ``recon``, ``perplexity``, ``codes_used``).
            Every trial records the wall time of its ``train`` call in ``trial.seconds`` (it depends on the
            machine and its load).
        device: ``"auto"`` (a GPU when torch sees one), ``"cpu"`` or ``"cuda[:N]"``, passed to ``train``
            (see :func:`vqlab.train.resolve_device`) and available to ``measure`` as ``trial.device``.
        timing: also report ``trial.seconds`` as the metric ``train_seconds`` (off by default, so that
            tables printed with every metric stay free of machine-dependent numbers).
    Returns:
        a :class:`Comparison` with the trained :class:`Trial` of every run in ``trials``.
    """
    seeds = tuple(check_int("seeds", s, 0) for s in seeds)
    if not seeds:
        raise ValueError("seeds must contain at least one seed")
    if not variants:
        raise ValueError("variants must name at least one model factory")
    check_int("epochs", epochs)
    if not isinstance(timing, bool):
        raise TypeError(f"timing must be a bool, got {timing!r}")
    measure = _default_measure if measure is None else measure
    values: dict[str, dict[str, list[float]]] = {}
    trials: dict[str, list[Trial]] = {}
    for name, factory in variants.items():
        values[name], trials[name] = {}, []
        for seed in seeds:
            made = factory(seed)
            trial = made if isinstance(made, Trial) else Trial(made)
            if not isinstance(trial.model, nn.Module):
                raise TypeError(f"the factory of {name!r} must return an nn.Module or a Trial, "
                                f"got {type(made).__name__}")
            trial.name, trial.seed, trial.device = name, seed, device
            start = time.perf_counter()
            trial.history = train(trial.model, x_train, epochs=epochs, steps=steps, batch_size=batch_size, lr=lr,
                                  seed=seed, extra_losses=trial.extra_losses, callbacks=trial.callbacks,
                                  progress=False, device=device)
            trial.seconds = time.perf_counter() - start
            trial.metrics = {k: float(v) for k, v in measure(trial, x_test).items()}
            if timing:
                trial.metrics["train_seconds"] = trial.seconds
            for key, value in trial.metrics.items():
                values[name].setdefault(key, []).append(value)
            trials[name].append(trial)
    return Comparison(values, seeds, trials)


# ---- Notebook 01: vector quantization and the VQ-VAE ----------------------------------------------
# The gradient-path and straight-through checks, and the codebook-collapse table (plain / EMA /
# k-means++ init / dead-code restart). Equations refer to
# Badran, VQ-VAE with Neural Gas and Fuzzy c-Means, master thesis, Hochschule Mittweida, 2021 ("the thesis").


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
    """The straight-through estimator, numerically: ``z_q = z_e + sg(w_gamma - z_e)``.

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


#: Notebook 01's side-by-side fixes for codebook collapse: ``VectorQuantizer`` keyword arguments.
COLLAPSE_VARIANTS: dict[str, dict] = {
    "plain": {},
    "EMA": {"codebook_update": "ema"},
    "k-means++ init": {"init": "kmeans++"},
    "dead-code restart": {"restart_after": 20},
}


def _collapse_factory(settings: dict, num_codes: int, code_dim: int, hidden: tuple[int, ...]) -> Factory:
    def make(seed: int) -> nn.Module:
        quantizer = VectorQuantizer(num_codes, code_dim, codebook_update=settings.get("codebook_update", "gradient"),
                                    init=settings.get("init", "uniform"),
                                    restart_after=settings.get("restart_after"), seed=seed)
        return build_vqvae(quantizer, hidden=hidden, seed=seed)
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


# ---- Notebook 02: the information bottleneck behind VQ-VAE (VIB / VDIB) ---------------------------
# Hard VQ vs the EM quantizer on digits, and the rate-distortion sweep over temperatures. Equations
# refer to arXiv:1808.01048 ("the VIB paper").


@torch.no_grad()
def ib_metrics(model, x: Tensor, device: str = "auto") -> dict[str, float]:
    """Test-set numbers of a trained VQ-VAE: :func:`vqlab.train.evaluate` (``recon``, ``perplexity`` of the
    hard code usage, ``codes_used``) plus, on the posteriors ``p(z | i)`` of all of ``x`` with ``p(i) = 1/N``:
    ``conditional_entropy`` H(p(Z|I)), ``rate_bound`` KL(p(Z|I) || uniform) (eq. 15) and
    ``mutual_information`` I(I; Z) (eq. 13), in nats per image."""
    result = evaluate(model, x, device=device)
    with eval_mode(model):
        probs = model.quantize(model.encode(x)).probs.double()
    probs = probs / probs.sum(-1, keepdim=True)
    result.update(conditional_entropy=float(losses.conditional_entropy(probs)),
                  rate_bound=float(losses.kl_to_prior(probs)),
                  mutual_information=float(losses.mutual_information_iz(probs)))
    return result


def _ib_measure(trial: Trial, x_test: Tensor) -> dict[str, float]:
    return ib_metrics(trial.model, x_test, device=trial.device)


def ib_comparison(variants: dict, x_train: Tensor, x_test: Tensor, seeds: Sequence[int] = (0, 1, 2),
                  epochs: int = 20, batch_size: int = 128, lr: float = 3e-3, hidden: tuple[int, ...] = (128,),
                  device: str = "auto") -> Comparison:
    """The MLP VQ-VAE of :func:`vqlab.models.build_vqvae` with ONE latent vector (one code Z) per image, so
    that ``I`` (the image index) and ``Z`` are the VIB paper's clustering setting, around every variant's
    quantizer, trained through :func:`compare` and measured with :func:`ib_metrics` on ``x_test``.

    Args:
        variants: name -> ``make_quantizer(seed)`` returning a fresh :class:`~vqlab.quantizers.Quantizer`.
        seeds: at least one seed; the same seeds for every variant.
    """
    in_dim, hidden = x_train.shape[1], tuple(hidden)

    def factory(make_quantizer):
        return lambda seed: build_vqvae(make_quantizer(seed), in_dim=in_dim, hidden=hidden, seed=seed)

    return compare({name: factory(make) for name, make in variants.items()}, x_train, x_test, seeds=seeds,
                   epochs=epochs, batch_size=batch_size, lr=lr, measure=_ib_measure, device=device)


# ---- Notebook 04: neural gas and fuzzy c-means posteriors inside the VQ-VAE (thesis ch. 5) ---------

def posterior_vqvae(seed: int, *, posterior: str = "hard", lam: float = 1.0, lam_final: float | None = None,
                    lam_steps: int | None = None, m: float = 2.0, init: str = "uniform", num_codes: int = 128,
                    code_dim: int = 8, codes_per_image: int = 4, beta: float = 0.25, eta: float = 1.0,
                    hidden: tuple[int, ...] = (128,)) -> nn.Module:
    """Notebook 04's digits VQ-VAE: :func:`vqlab.models.build_vqvae` (MLP, ``codes_per_image`` latent
    vectors of dimension ``code_dim`` per image) around a
    :class:`~vqlab.quantizers.PosteriorQuantizer` (``posterior``, ``lam``/``lam_final``/``lam_steps``,
    ``m``, ``init``, the thesis's alpha = ``beta`` and ``eta``). Same nets for every posterior."""
    quantizer = PosteriorQuantizer(num_codes, code_dim, posterior=posterior, lam=lam, lam_final=lam_final,
                                   lam_steps=lam_steps, m=m, eta=eta, beta=beta, init=init, seed=seed)
    return build_vqvae(quantizer, latent_shape=(codes_per_image, code_dim), hidden=hidden, seed=seed)


# ---- Notebook 05: the homological regularizer (Hoagland et al.) ----------------------------------
# The digits latent-space comparison (AE / AE + L_top / disk only / VAE) with its coverage and
# sample-quality measurements. Paper: Hoagland, Liu & Montelli; code at github.com/BCHoagland/TDA-Project

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


# ---- Notebook 06: HC-VQ, the dry run against the regularized run (Volkov 2022) ---------------------

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


# ---- Notebook 08: the codebook-collapse scoreboard ------------------------------------------------
# Every fix of the earlier notebooks, plus FSQ (arXiv:2309.15505) and the rotation trick
# (arXiv:2410.06424), around the SAME conv encoder/decoder with the same budget and seeds.

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
        quantizer = EMQuantizer(k, d, temperature=temperature, beta=beta, seed=seed)
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
