"""Code priors: the chain rule over a code map (Badran 2021, master thesis, §3.1 and §5.3), its likelihood,
sampling and completion, and the two baselines (uniform, unigram).

A code map ``z`` of shape ``[H, W]`` with entries in ``{0, ..., K-1}`` is modelled with the chain rule
(eq. 3.1) in a fixed ordering of its ``n = H W`` positions,

    p(z) = prod_i p(z_i | z_<i),        log p(z) = sum_i log p(z_i | z_<i)      (eqs. 3.1, 3.2),

where one network outputs all ``n`` conditionals at once. Every prior is a
:class:`~vqlab.priors.CodePrior`: ``prior(x)`` with ``x`` a ``[N, H, W]`` long code map returns a
:class:`~vqlab.priors.PriorOutput` whose ``losses = {"nll": bits per code}``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vqlab._checks import check_float, check_int, check_tensor
from vqlab.train import resolve_device

__all__ = ["PriorOutput", "CodePrior", "UniformPrior", "UnigramPrior", "bits_per_code", "tempered_probs",
           "raster_order"]


# ----------------------------------------------------------------------------- likelihood and sampling
def bits_per_code(logits: Tensor, x: Tensor) -> Tensor:
    """Mean negative log-likelihood in **bits per code** (eq. 3.2 divided by ``n ln 2``).

    Args:
        logits: ``[N, K, H, W]`` unnormalised log-probabilities of every conditional.
        x: ``[N, H, W]`` long code map (the observed codes).
    Returns:
        scalar tensor ``-(1/(N H W)) sum log2 p(x_i | x_<i)``; a uniform prior gives ``log2 K``.
    """
    if logits.ndim != 4 or x.shape != (logits.shape[0], *logits.shape[2:]):
        raise ValueError(f"logits [N, K, H, W] and x [N, H, W] do not match: {tuple(logits.shape)} "
                         f"vs {tuple(x.shape)}")
    return F.cross_entropy(logits, x) / math.log(2.0)


def tempered_probs(logits: Tensor, temperature: float = 1.0, dim: int = 1) -> Tensor:
    """``softmax(logits / T)`` along ``dim``, stable for any finite ``T > 0``.

    The maximum logit is subtracted *before* dividing by ``T``, so ``T -> 0`` gives a one-hot at the
    argmax (no overflow to NaN) and ``T -> inf`` gives the uniform distribution.
    """
    t = check_float("temperature", temperature, 0.0, strict=True)
    shifted = logits - logits.amax(dim, keepdim=True)
    return torch.softmax(shifted / t, dim=dim)


def raster_order(shape: tuple[int, int]) -> Tensor:
    """The raster-scan ordering ``[H W]`` (row by row, left to right) used by PixelCNN (§3.3)."""
    return torch.arange(shape[0] * shape[1])


@dataclass
class PriorOutput:
    """``logits``: ``[N, K, H, W]``; ``losses``: ``{"nll": bits per code}`` (what ``train`` minimises)."""

    logits: Tensor
    losses: dict[str, Tensor] = field(default_factory=dict)


class CodePrior(nn.Module):
    """Base class of every prior over code maps ``[N, H, W]`` with K codes.

    Subclasses implement :meth:`logits`; the base class checks inputs and provides the NLL
    (:meth:`bits_per_code`), ancestral sampling (:meth:`sample`) and completion (:meth:`complete`)
    in the ordering ``self.order`` (a permutation of the ``H W`` flat positions; raster by default).

    Args:
        num_codes: K >= 1. shape: ``(H, W)`` of the code maps.
    """

    def __init__(self, num_codes: int, shape: tuple[int, int]):
        super().__init__()
        self.num_codes = check_int("num_codes", num_codes)
        if not isinstance(shape, (tuple, list)) or len(shape) != 2:
            raise ValueError(f"shape must be a pair (H, W), got {shape!r}")
        self.shape = (check_int("shape[0]", shape[0]), check_int("shape[1]", shape[1]))
        self.register_buffer("order", raster_order(self.shape))

    def extra_repr(self) -> str:
        return f"num_codes={self.num_codes}, shape={self.shape}"

    # -- input handling ----------------------------------------------------------------------------
    def check_codes(self, x: Tensor, name: str = "x") -> Tensor:
        """Check that ``x`` is a ``[N, H, W]`` integer code map with ids in ``[0, K)``; returns it as long."""
        check_tensor(name, x, ndim=3, floating=False)
        if x.is_floating_point() or x.dtype == torch.bool:
            raise ValueError(f"{name} must be an integer code map [N, H, W], got dtype {x.dtype}")
        if tuple(x.shape[1:]) != self.shape:
            raise ValueError(f"{name} must have shape [N, {self.shape[0]}, {self.shape[1]}], got {tuple(x.shape)}")
        if x.min() < 0 or x.max() >= self.num_codes:
            raise ValueError(f"{name} must hold code ids in [0, {self.num_codes}), got range "
                             f"[{int(x.min())}, {int(x.max())}]")
        return x.long()

    def one_hot(self, x: Tensor) -> Tensor:
        """``[N, H, W]`` long codes -> ``[N, K, H, W]`` float one-hot; float ``[N, K, H, W]`` passes through
        (so gradients with respect to the input can be taken, see :func:`receptive_field`)."""
        if isinstance(x, Tensor) and x.is_floating_point():
            check_tensor("x", x, ndim=4)
            if tuple(x.shape[1:]) != (self.num_codes, *self.shape):
                raise ValueError(f"float x must be one-hot [N, {self.num_codes}, {self.shape[0]}, "
                                 f"{self.shape[1]}], got {tuple(x.shape)}")
            return x
        return F.one_hot(self.check_codes(x), self.num_codes).permute(0, 3, 1, 2).float()

    # -- the one method subclasses implement ---------------------------------------------------------
    def logits(self, x: Tensor) -> Tensor:
        """Conditional logits ``[N, K, H, W]``: entry ``[:, :, i, j]`` parameterises ``p(z_ij | z_<ij)``."""
        raise NotImplementedError

    # -- shared API -------------------------------------------------------------------------------------
    def forward(self, x: Tensor) -> PriorOutput:
        """``x`` ``[N, H, W]`` long -> :class:`PriorOutput` with ``losses = {"nll": bits per code}``."""
        x = self.check_codes(x)
        logits = self.logits(x)
        return PriorOutput(logits=logits, losses={"nll": bits_per_code(logits, x)})

    @torch.no_grad()
    def bits_per_code(self, x: Tensor, batch_size: int = 512) -> float:
        """Mean NLL of code maps ``x`` ``[N, H, W]`` in bits per code (eq. 3.2 / (n ln 2)), in eval mode."""
        x = self.check_codes(x)
        was_training = self.training
        self.eval()
        total = sum(bits_per_code(self.logits(xb), xb).item() * xb.numel() for xb in x.split(batch_size))
        self.train(was_training)
        return total / x.numel()

    @torch.no_grad()
    def complete(self, code_map: Tensor, known: Tensor, generator: torch.Generator | None = None,
                 temperature: float = 1.0, device: str | torch.device = "auto") -> Tensor:
        """Sample the unknown entries of ``code_map`` one at a time in ``self.order`` (ancestral sampling).

        Args:
            code_map: ``[N, H, W]`` long; entries where ``known`` is True are kept.
            known: ``[H, W]`` or ``[N, H, W]`` bool. Sampling is exact ``p(rest | known)`` when the known
                positions come first in the ordering (e.g. the top rows for raster order); otherwise the
                later known entries cannot influence earlier samples (the model never looks ahead).
            generator: a ``torch.Generator`` for reproducible samples.
            temperature: ``T > 0``; samples from ``softmax(logits / T)`` (:func:`tempered_probs`).
            device: where the forward passes run (:func:`vqlab.train.resolve_device`; the prior moves
                there and back). Draws happen on ``generator``'s device, so one seeded generator gives the
                same samples wherever the passes run (up to float differences of the device).
        Returns:
            ``[N, H, W]`` long code map, on ``code_map``'s device.
        """
        run_on, home, out_on = resolve_device(device), self.order.device, code_map.device
        x = self.check_codes(code_map, "code_map").clone()
        check_float("temperature", temperature, 0.0, strict=True)
        if not isinstance(known, Tensor) or known.dtype != torch.bool:
            raise TypeError("known must be a bool tensor [H, W] or [N, H, W]")
        if tuple(known.shape[-2:]) != self.shape or known.ndim not in (2, 3):
            raise ValueError(f"known must have shape [{self.shape[0]}, {self.shape[1]}] or [N, H, W], "
                             f"got {tuple(known.shape)}")
        if known.ndim == 3 and known.shape[0] not in (1, x.shape[0]):
            raise ValueError(f"known [N, H, W] must have N = {x.shape[0]} (as code_map), got {tuple(known.shape)}")
        x = x.to(run_on)
        known = known.to(run_on).expand_as(x).reshape(x.shape[0], -1)
        was_training = self.training
        self.to(run_on)
        self.eval()
        flat = x.reshape(x.shape[0], -1)
        for pos in self.order.tolist():
            todo = ~known[:, pos]
            if not todo.any():
                continue
            probs = tempered_probs(self.logits(x).flatten(2)[:, :, pos], temperature)
            draw_on = probs.device if generator is None else generator.device
            draw = torch.multinomial(probs.to(draw_on), 1, generator=generator).squeeze(1).to(run_on)
            flat[:, pos] = torch.where(todo, draw, flat[:, pos])
        self.train(was_training)
        self.to(home)
        return x.to(out_on)

    def sample(self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0,
               device: str | torch.device = "auto") -> Tensor:
        """Draw ``n`` code maps ``[n, H, W]`` by ancestral sampling (eq. 3.1, one position at a time).

        ``temperature`` ``T > 0`` rescales the logits: ``T -> 0`` approaches the greedy (argmax) map,
        large ``T`` approaches uniform codes. Pass a seeded ``generator`` for reproducible samples.
        ``device`` as in :meth:`complete`; the maps come back on the prior's device.
        """
        check_int("n", n)
        start = torch.zeros(n, *self.shape, dtype=torch.long, device=self.order.device)
        return self.complete(start, torch.zeros(self.shape, dtype=torch.bool), generator, temperature, device)


# ----------------------------------------------------------------------------- baselines
class UniformPrior(CodePrior):
    """``p(z_i = k) = 1/K`` everywhere: the prior assumed while training the VQ-VAE (thesis §5.2).

    Its NLL is exactly ``log2 K`` bits per code.
    """

    def logits(self, x: Tensor) -> Tensor:
        n = self.one_hot(x).shape[0]
        return torch.zeros(n, self.num_codes, *self.shape, device=x.device)


class UnigramPrior(CodePrior):
    """Independent per-position prior ``p(z) = prod_i p_i(z_i)`` with Laplace-smoothed frequencies.

    :meth:`fit` counts codes per position: ``p_i(k) = (count_i(k) + alpha) / (N + K alpha)``.
    No ordering matters: it ignores every dependency between positions.
    """

    def __init__(self, num_codes: int, shape: tuple[int, int], alpha: float = 1.0):
        super().__init__(num_codes, shape)
        self.alpha = check_float("alpha", alpha, 0.0, strict=True)
        self.register_buffer("log_probs", torch.full((num_codes, *self.shape), -math.log(num_codes)))

    @torch.no_grad()
    def fit(self, x: Tensor) -> UnigramPrior:
        """Set the per-position frequencies from code maps ``x`` ``[N, H, W]``; returns ``self``."""
        onehot = self.one_hot(self.check_codes(x))
        counts = onehot.sum(0) + self.alpha
        self.log_probs.copy_(torch.log(counts / counts.sum(0, keepdim=True)))
        return self

    def logits(self, x: Tensor) -> Tensor:
        n = self.one_hot(x).shape[0]
        return self.log_probs.expand(n, -1, -1, -1)
