"""Notebook 02's experiments (the VIB paper, arXiv:1808.01048): hard VQ against the EM quantizer on the
digits, and the rate-distortion sweep over temperatures. Equations refer to the VIB paper; the letters are the
course's (J the image index, Z its code, q(k|j) the posterior).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from vqlab import losses
from vqlab.experiments.driver import Comparison, Trial, compare
from vqlab.models import build_vqvae
from vqlab.train import eval_mode, evaluate

__all__ = ["ib_metrics", "ib_comparison"]


@torch.no_grad()
def ib_metrics(model, x: Tensor, device: str = "auto") -> dict[str, float]:
    """Test-set numbers of a trained VQ-VAE: :func:`vqlab.train.evaluate` (``recon``, ``perplexity`` of the
    hard code usage, ``codes_used``) plus, on the posteriors ``q(k | j)`` of all of ``x`` with ``p(j) = 1/N``:
    ``conditional_entropy`` H(q(Z|J)), ``rate_bound`` KL(q(Z|J) || uniform) (eq. 15) and
    ``mutual_information`` I(J; Z) (eq. 13), in nats per image."""
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
    that ``J`` (the image index) and ``Z`` are the VIB paper's clustering setting, around every variant's
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
