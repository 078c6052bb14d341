"""Experiment drivers used by the notebooks: build, train over seeds, tabulate; every training run goes
through :func:`vqlab.train.train`.

Each driver builds small models, trains them once per seed and returns a result object with per-seed
values, ``summary`` (mean and std over seeds) and a plain-text ``table``. The interactive parts of the
notebooks (state / draw / builder functions) live in :mod:`vqlab.widgets`. Sections are grouped by
notebook.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from vqlab import losses, topology
from vqlab._checks import check_choice, check_int
from vqlab.metrics import sample_quality
from vqlab.models import VAE, VQVAE, Autoencoder
from vqlab.nets import MLPDecoder, MLPEncoder
from vqlab.quantizers import VectorQuantizer
from vqlab.train import evaluate, seed_everything, train

__all__ = [
    # notebook 01
    "gradient_paths", "straight_through_check", "digits_vqvae", "COLLAPSE_VARIANTS", "CollapseResult",
    "collapse_experiment",
    # notebook 02
    "ib_digits_model", "ib_metrics", "IBComparison", "ib_comparison",
    # notebook 05
    "LATENT_VARIANTS", "latent_model", "prior_samples", "LatentComparison",
    "latent_comparison",
]


# ---- Notebook 01: vector quantization and the VQ-VAE ----------------------------------------------
# The gradient-path and straight-through checks, and the codebook-collapse table (plain / EMA /
# k-means++ init / dead-code restart). Equations refer to
# ../shared/papers/vq-vae-with-neural-gas-and-fuzzy-c-means.md ("the thesis").


def gradient_paths(model, x: Tensor) -> dict[str, dict[str, bool]]:
    """Which parameters each named loss term of a VQ-VAE reaches (thesis eq. 5.4/5.5).

    For every term in ``model(x).losses`` the term alone is back-propagated and we record whether any
    parameter of ``encoder``, ``quantizer`` (the codebook) and ``decoder`` receives a non-zero gradient.
    Expected for hard VQ: ``recon`` -> encoder (through the straight-through estimator) and decoder;
    ``commitment`` -> encoder only; ``codebook`` -> codebook only.
    """
    parts = {"encoder": model.encoder, "codebook": model.quantizer, "decoder": model.decoder}
    was_training = model.training
    model.eval()
    try:
        table = {}
        for term in model(x).losses:
            model.zero_grad(set_to_none=True)
            model(x).losses[term].backward()
            table[term] = {name: any(p.grad is not None and bool(p.grad.abs().sum() > 0)
                                     for p in part.parameters()) for name, part in parts.items()}
        model.zero_grad(set_to_none=True)
    finally:
        model.train(was_training)
    return table


def straight_through_check(model, x: Tensor) -> dict[str, float | bool]:
    """The straight-through estimator, numerically: ``z_q = z_e + sg(w_gamma - z_e)``.

    Returns the forward check (``z_q`` equals the chosen codewords) and the backward check: the
    gradient of the reconstruction loss w.r.t. the decoder input ``z_q`` is copied unchanged to the
    encoder output ``z_e`` (``max |dL/dz_q - dL/dz_e|``).
    """
    was_training = model.training
    model.eval()
    try:
        out = model(x)
        g_zq, g_ze = torch.autograd.grad(out.losses["recon"], [out.quant.z_q, out.z_e])
        codewords = model.quantizer.codebook[out.quant.indices]
    finally:
        model.train(was_training)
    return {"forward_z_q_is_codeword": bool(torch.allclose(out.quant.z_q, codewords, atol=1e-6)),
            "z_q_differs_from_z_e": bool((out.quant.z_q - out.z_e).abs().max() > 1e-6),
            "max_grad_difference": float((g_zq - g_ze).abs().max()),
            "gradient_copied": bool(torch.equal(g_zq, g_ze)),
            "gradient_nonzero": bool(g_ze.abs().sum() > 0)}


def digits_vqvae(num_codes: int = 32, code_dim: int = 8, hidden: tuple[int, ...] = (128, 64), seed: int = 0,
                 in_dim: int = 64, **quantizer_kwargs):
    """An MLP VQ-VAE for flat 8x8 digits with ONE latent vector (one code) per image:
    ``MLPEncoder(64 -> hidden -> D)``, ``VectorQuantizer(K, D, **quantizer_kwargs)``, ``MLPDecoder``.
    Weights are initialised from ``seed`` (the global seed is set here)."""
    seed_everything(seed)
    return VQVAE(MLPEncoder(in_dim, code_dim, hidden),
                 VectorQuantizer(num_codes, code_dim, seed=seed, **quantizer_kwargs),
                 MLPDecoder(code_dim, in_dim, tuple(reversed(hidden))))


#: Notebook 01's side-by-side fixes for codebook collapse: ``VectorQuantizer`` keyword arguments.
COLLAPSE_VARIANTS: dict[str, dict] = {
    "plain": {},
    "EMA": {"codebook_update": "ema"},
    "k-means++ init": {"init": "kmeans++"},
    "dead-code restart": {"restart_after": 20},
}


@dataclass
class CollapseResult:
    """Per variant and metric, one test-set value per seed; ``counts[variant]``: the ``[K]`` test-set code
    usage of the first seed (for :func:`vqlab.plotting.plot_usage`)."""

    values: dict[str, dict[str, list[float]]]
    counts: dict[str, np.ndarray]
    seeds: tuple[int, ...]

    def summary(self, variant: str, metric: str) -> tuple[float, float]:
        """``(mean, std)`` over seeds (std with ddof=0)."""
        v = np.asarray(self.values[variant][metric])
        return float(v.mean()), float(v.std())

    def table(self) -> str:
        """A plain-text table: test reconstruction MSE, perplexity and codes used, mean ± std over seeds."""
        metrics = (("recon", "test recon MSE", "{:.4f} ± {:.4f}"), ("perplexity", "perplexity", "{:.1f} ± {:.1f}"),
                   ("codes_used", "codes used", "{:.1f} ± {:.1f}"))
        lines = [f"{'variant':<20}" + "".join(f"{title:>20}" for _, title, _ in metrics)]
        for name in self.values:
            lines.append(f"{name:<20}" + "".join(f"{fmt.format(*self.summary(name, key)):>20}"
                                                 for key, _, fmt in metrics))
        return "\n".join(lines + [f"(mean ± std over seeds {list(self.seeds)})"])


def collapse_experiment(x_train: Tensor, x_test: Tensor, variants: dict[str, dict] | None = None,
                        seeds=(0, 1, 2), num_codes: int = 128, code_dim: int = 8, epochs: int = 15,
                        batch_size: int = 64, lr: float = 2e-3, **model_kwargs) -> CollapseResult:
    """Train :func:`digits_vqvae` once per variant and seed with :func:`vqlab.train.train` and evaluate
    on ``x_test`` with :func:`vqlab.train.evaluate` (reconstruction MSE, perplexity, codes used).

    Args:
        variants: name -> ``VectorQuantizer`` keyword arguments (default :data:`COLLAPSE_VARIANTS`).
        seeds: at least one seed; the same seeds are used for every variant.
    """
    variants = COLLAPSE_VARIANTS if variants is None else variants
    seeds = tuple(check_int("seeds", s, 0) for s in seeds)
    if not seeds or not variants:
        raise ValueError("seeds and variants must not be empty")
    values: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, np.ndarray] = {}
    for name, kwargs in variants.items():
        values[name] = {"recon": [], "perplexity": [], "codes_used": []}
        for seed in seeds:
            model = digits_vqvae(num_codes, code_dim, seed=seed, **model_kwargs, **kwargs)
            train(model, x_train, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, progress=False)
            result = evaluate(model, x_test)
            for key in values[name]:
                values[name][key].append(result[key])
            if name not in counts:
                with torch.no_grad():
                    idx = model.quantize(model.encode(x_test)).indices
                counts[name] = torch.bincount(idx.reshape(-1), minlength=num_codes).numpy()
    return CollapseResult(values, counts, seeds)


# ---- Notebook 02: the information bottleneck behind VQ-VAE (VIB / VDIB) ---------------------------
# Hard VQ vs the EM quantizer on digits, and the rate-distortion sweep over temperatures. Equations
# refer to ../shared/papers/vib-on-vector-quantized-autoencoders.md ("the VIB paper").


def ib_digits_model(quantizer, hidden: tuple[int, ...] = (128,), in_dim: int = 64, seed: int = 0):
    """An MLP VQ-VAE for flat 8x8 digits with ONE latent vector (one code Z) per image, so that ``I`` (the
    image index) and ``Z`` are the VIB paper's clustering setting: ``MLPEncoder(64 -> hidden -> D)``, the
    given ``quantizer`` (D = its ``code_dim``), ``MLPDecoder``. Weights are initialised from ``seed``."""
    seed_everything(seed)
    d = quantizer.code_dim
    return VQVAE(MLPEncoder(in_dim, d, hidden), quantizer, MLPDecoder(d, in_dim, tuple(reversed(hidden))))


@torch.no_grad()
def ib_metrics(model, x: Tensor) -> dict[str, float]:
    """Test-set numbers of a trained VQ-VAE: :func:`vqlab.train.evaluate` (``recon``, ``perplexity`` of the
    hard code usage, ``codes_used``) plus, on the posteriors ``p(z | i)`` of all of ``x`` with ``p(i) = 1/N``:
    ``conditional_entropy`` H(p(Z|I)), ``rate_bound`` KL(p(Z|I) || uniform) (eq. 15) and
    ``mutual_information`` I(I; Z) (eq. 13), in nats per image."""
    result = evaluate(model, x)
    was_training = model.training
    model.eval()
    probs = model.quantize(model.encode(x)).probs.double()
    probs = probs / probs.sum(-1, keepdim=True)
    model.train(was_training)
    result.update(conditional_entropy=float(losses.conditional_entropy(probs)),
                  rate_bound=float(losses.kl_to_prior(probs)),
                  mutual_information=float(losses.mutual_information_iz(probs)))
    return result


@dataclass
class IBComparison:
    """Per variant and metric (the keys of :func:`ib_metrics`), one test-set value per seed;
    ``models[variant]``: the trained model of the first seed (for reconstructions)."""

    values: dict[str, dict[str, list[float]]]
    seeds: tuple[int, ...]
    models: dict = field(default_factory=dict)

    def summary(self, variant: str, metric: str) -> tuple[float, float]:
        """``(mean, std)`` over seeds (std with ddof=0)."""
        v = np.asarray(self.values[variant][metric])
        return float(v.mean()), float(v.std())

    def table(self, metrics=(("recon", "recon MSE", 4), ("perplexity", "perplexity", 1),
                             ("codes_used", "codes used", 1), ("conditional_entropy", "H(p(Z|I))", 3),
                             ("rate_bound", "KL(p(Z|I)||r)", 3), ("mutual_information", "I(I;Z)", 3))) -> str:
        """A plain-text table, mean ± std over seeds."""
        width = max(len(n) for n in self.values) + 2
        lines = [f"{'variant':<{width}}" + "".join(f"{title:>18}" for _, title, _ in metrics)]
        for name in self.values:
            cells = []
            for key, _, digits in metrics:
                m, s = self.summary(name, key)
                cells.append(f"{m:.{digits}f} ± {s:.{digits}f}".rjust(18))
            lines.append(f"{name:<{width}}" + "".join(cells))
        return "\n".join(lines + [f"(test set; mean ± std over seeds {list(self.seeds)}; entropies in nats)"])


def ib_comparison(variants: dict, x_train: Tensor, x_test: Tensor, seeds=(0, 1, 2), epochs: int = 20,
                  batch_size: int = 128, lr: float = 3e-3, hidden: tuple[int, ...] = (128,)) -> IBComparison:
    """Train :func:`ib_digits_model` for every variant and seed with :func:`vqlab.train.train` and collect
    :func:`ib_metrics` on ``x_test``.

    Args:
        variants: name -> ``make_quantizer(seed)`` returning a fresh :class:`~vqlab.quantizers.Quantizer`.
        seeds: at least one seed; the same seeds for every variant.
    """
    seeds = tuple(check_int("seeds", s, 0) for s in seeds)
    if not seeds or not variants:
        raise ValueError("seeds and variants must not be empty")
    check_int("epochs", epochs)
    values: dict[str, dict[str, list[float]]] = {}
    models = {}
    for name, make_quantizer in variants.items():
        for seed in seeds:
            model = ib_digits_model(make_quantizer(seed), hidden=hidden, in_dim=x_train.shape[1], seed=seed)
            train(model, x_train, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, progress=False)
            for key, value in ib_metrics(model, x_test).items():
                values.setdefault(name, {}).setdefault(key, []).append(value)
            models.setdefault(name, model)
    return IBComparison(values, seeds, models)


# ---- Notebook 05: the homological regularizer (Hoagland et al.) ----------------------------------
# The digits latent-space comparison (AE / AE + L_top / disk only / VAE) with its coverage and
# sample-quality measurements. Paper: ../shared/papers/homological-regularization-for-autoencoders.md

LATENT_VARIANTS = ("AE", "AE + L_top", "AE + disk only", "VAE")


def latent_model(variant: str, latent_dim: int = 2, hidden: tuple[int, ...] = (64, 64), weight: float = 0.1,
                 vae_beta: float = 0.1, in_dim: int = 64):
    """One model of the paper's comparison on flat images ``[N, in_dim]``: returns ``(model, hooks)``.

    "AE": :class:`vqlab.models.Autoencoder` (MLP, two hidden layers of 64 as in the paper, ReLU instead of
    ELU); "AE + L_top": the same with :class:`vqlab.topology.HomologicalRegularizer` (``weight`` = λ,
    ``reduction="mean"``) as the ``extra_losses`` hook; "AE + disk only": the hinge term alone (paper
    Appendix A-A); "VAE": :class:`vqlab.models.VAE` with KL weight ``vae_beta``.
    """
    check_choice("variant", variant, LATENT_VARIANTS)
    check_int("latent_dim", latent_dim)
    decoder = MLPDecoder(latent_dim, in_dim, tuple(reversed(hidden)))
    if variant == "VAE":
        return VAE(MLPEncoder(in_dim, 2 * latent_dim, hidden), decoder, latent_dim, beta=vae_beta), []
    model = Autoencoder(MLPEncoder(in_dim, latent_dim, hidden), decoder)
    hooks = {"AE": [], "AE + L_top": [topology.HomologicalRegularizer(weight)],
             "AE + disk only": [topology.HomologicalRegularizer(weight, topological=False)]}[variant]
    return model, hooks


def prior_samples(variant: str, n: int, dim: int, generator: torch.Generator | None = None) -> Tensor:
    """Where each variant samples its latents from: uniform on the unit ball for the regularized AEs
    (paper §III), a standard Gaussian for the plain AE (as in the paper) and the VAE (its prior)."""
    check_choice("variant", variant, LATENT_VARIANTS)
    if variant in ("AE + L_top", "AE + disk only"):
        return topology.sample_unit_ball(n, dim, generator)
    return torch.randn(n, dim, generator=generator)


@dataclass
class LatentComparison:
    """Results of :func:`latent_comparison`: ``rows`` (one dict per variant and seed with ``recon``,
    ``in_ball``, ``coverage``, ``energy``, ``confidence``, ``class_entropy``), and for the first seed the test
    ``latents`` and decoded prior ``samples`` per variant, with the test ``labels``."""

    rows: list
    latents: dict
    samples: dict
    labels: np.ndarray

    def summary(self) -> dict[str, dict[str, tuple[float, float]]]:
        """``{variant: {metric: (mean, std over seeds)}}``."""
        out: dict[str, dict[str, tuple[float, float]]] = {}
        for v in dict.fromkeys(r["variant"] for r in self.rows):
            rs = [r for r in self.rows if r["variant"] == v]
            out[v] = {k: (float(np.mean([r[k] for r in rs])), float(np.std([r[k] for r in rs])))
                      for k in rs[0] if k not in ("variant", "seed")}
        return out

    def table(self) -> str:
        """The summary as aligned text, mean ± std over seeds."""
        s = self.summary()
        keys = list(next(iter(s.values())))
        lines = [f"{'variant':16s}" + "".join(f"{k:>16s}" for k in keys)]
        for v, m in s.items():
            lines.append(f"{v:16s}" + "".join(f"{m[k][0]:>9.3f} ± {m[k][1]:.3f}" for k in keys))
        return "\n".join(lines)


def latent_comparison(x_train: Tensor, x_test: Tensor, y_test: Tensor, predict_proba,
                      variants: tuple[str, ...] = LATENT_VARIANTS, seeds: tuple[int, ...] = (0, 1, 2),
                      latent_dim: int = 2, epochs: int = 40, lr: float = 3e-3, batch_size: int = 128,
                      weight: float = 0.1, vae_beta: float = 0.1, n_samples: int = 1000,
                      radius: float = 0.1) -> LatentComparison:
    """Train every variant for every seed with :func:`vqlab.train.train` (the regularizer as an
    ``extra_losses`` hook) and measure what the paper only shows in pictures:

    * ``recon``: test MSE; ``in_ball``: fraction of test latents with ‖z‖ ≤ 1;
    * ``coverage``: fraction of ``n_samples`` prior samples with a test latent within ``radius``
      (:func:`vqlab.topology.coverage`); ``energy``: energy distance between test latents and the prior
      samples (:func:`vqlab.topology.energy_distance`);
    * ``confidence``, ``class_entropy``: :func:`vqlab.metrics.sample_quality` of the images decoded from the prior
      samples, judged by ``predict_proba`` (a classifier trained on the real digits).
    """
    rows, latents, samples = [], {}, {}
    for seed in seeds:
        prior_gen = torch.Generator().manual_seed(1000 + seed)
        for v in variants:
            seed_everything(seed)
            model, hooks = latent_model(v, latent_dim, weight=weight, vae_beta=vae_beta,
                                        in_dim=x_train.shape[1])
            train(model, x_train, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, extra_losses=hooks,
                  progress=False)
            with torch.no_grad():
                z = model.encode(x_test)
                s = prior_samples(v, n_samples, latent_dim, prior_gen)
                imgs = model.decoder(s)
            q = sample_quality(predict_proba(imgs.numpy()))
            rows.append({"variant": v, "seed": seed, "recon": evaluate(model, x_test)["recon"],
                         "in_ball": float((z.norm(dim=1) <= 1).float().mean()),
                         "coverage": topology.coverage(z, s, radius), "energy": topology.energy_distance(z, s),
                         **q})
            if seed == seeds[0]:
                latents[v], samples[v] = z.numpy(), imgs.numpy()
    return LatentComparison(rows, latents, samples, np.asarray(y_test))
