"""Finite scalar quantization (FSQ, Mentzer et al. 2023, arXiv:2309.15505): an implicit, fixed codebook.

Notebook 08: no learned codebook, so :class:`~vqlab.quantizers.FSQuantizer` is not a
:class:`~vqlab.quantizers.Quantizer` subclass, but it returns the same
:class:`~vqlab.quantizers.QuantizerOutput` and has ``num_codes``, ``code_dim`` and ``codebook`` (its
implicit grid), so it drops into :class:`vqlab.models.VQVAE` the same way.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from vqlab import distributed
from vqlab._checks import check_float, check_tensor
from vqlab.metrics import perplexity
from vqlab.quantizers.base import QuantizerOutput

__all__ = ["FSQuantizer"]


def _check_levels(levels: Sequence[int]) -> tuple[int, ...]:
    """``levels`` as a tuple of integers >= 2, else a ValueError naming ``levels``."""
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or len(levels) == 0:
        raise ValueError(f"levels must be a non-empty sequence of integers >= 2, got {levels!r}")
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, int) or level < 2:
            raise ValueError(f"levels must be a non-empty sequence of integers >= 2, got {levels!r} "
                             f"(entry {level!r})")
    return tuple(levels)


class FSQuantizer(nn.Module):
    """Finite scalar quantization (FSQ, Mentzer et al. 2023, arXiv:2309.15505, §3 and App. A.1).

    Each of the ``D = len(levels)`` latent dimensions is bounded to ``L_d`` values and rounded; the
    codebook is implicit, the grid of all ``K = prod_d L_d`` combinations, and nothing is learned here
    (no codebook loss, no commitment loss, no EMA: ``losses = {}``). Per dimension, with
    ``h = (L - 1)(1 + eps) / 2``, the half-offset ``o = 1/2`` for even ``L`` (else 0) and
    ``c = atanh(o / h)`` (the paper's ``f(z) = floor(L/2) tanh(z)`` for odd L, shifted so that an even L
    gets L integer values)::

        f(z) = h tanh(z + c) - o,     z_hat = round_ste(f(z)) in {-floor(L/2), ..., ceil(L/2) - 1},

        z_q = z_hat / floor(L/2)      (in [-1, 1]),  round_ste(x) = x + sg(round(x) - x)   (eq. 1 + STE).

    The straight-through rounding makes ``dz_q / dz = f'(z) / floor(L/2)`` (identity on the bounded value
    ``f(z)``). Code ids are the mixed-radix numbers of the per-dimension digits
    ``a_d = z_hat_d + floor(L_d/2)`` in ``[0, L_d)``: ``k = sum_d a_d prod_{j<d} L_j`` (dimension 0 is
    the least significant digit), :meth:`indices_to_digits` / :meth:`digits_to_indices` convert.

    Same interface as every vqlab quantizer (a drop-in for :class:`VectorQuantizer` in
    :class:`vqlab.models.VQVAE` with an encoder of output size D): input ``z_e`` ``[..., D]``, output
    :class:`QuantizerOutput` with ``z_q`` ``[..., D]``, ``indices`` ``[...]``, ``probs`` ``[..., K]``
    one-hot (built on first read: ``N K`` memory only when used), ``counts`` ``[K]``, ``perplexity`` of
    the counts and ``losses = {}``; ``num_codes = K``, ``code_dim = D`` and :attr:`codebook` ``[K, D]``
    (the implicit grid, so ``codebook[indices] == z_q``).

    Args:
        levels: ``L_1, ..., L_D``, integers >= 2 (the paper recommends e.g. ``(8, 5, 5, 5)`` for K = 1000).
        eps: the ``1 + eps`` margin of ``h`` that keeps ``tanh`` away from the outermost rounding
            boundary (App. A.1 uses 1e-3), in [0, 1).

    Example:
        >>> fsq = FSQuantizer(levels=(8, 5, 5, 5))
        >>> out = fsq(torch.randn(4, 7, 4))
        >>> fsq.num_codes, out.z_q.shape, out.indices.shape, out.losses
        (1000, torch.Size([4, 7, 4]), torch.Size([4, 7]), {})
    """

    def __init__(self, levels: Sequence[int], *, eps: float = 1e-3) -> None:
        super().__init__()
        self.levels = _check_levels(levels)
        self.eps = check_float("eps", eps, 0.0, maximum=1.0)
        if self.eps == 1.0:
            raise ValueError(f"eps must be in [0, 1), got {eps!r}")
        self.num_codes = math.prod(self.levels)
        self.code_dim = len(self.levels)
        lv = torch.tensor(self.levels, dtype=torch.long)
        half_width = lv // 2
        half_l = (lv - 1).double() * (1.0 + self.eps) / 2.0
        offset = (lv % 2 == 0).double() * 0.5
        self.register_buffer("_half_width", half_width, persistent=False)
        self.register_buffer("_basis", torch.cumprod(torch.cat([lv.new_ones(1), lv[:-1]]), 0), persistent=False)
        self.register_buffer("_levels", lv, persistent=False)
        self.register_buffer("_half_l", half_l.float(), persistent=False)
        self.register_buffer("_offset", offset.float(), persistent=False)
        self.register_buffer("_shift", torch.atanh(offset / half_l).float(), persistent=False)
        self.register_buffer("_codebook", self.indices_to_codes(torch.arange(self.num_codes)), persistent=False)

    @property
    def codebook(self) -> Tensor:
        """The implicit codebook ``[K, D]``: row k is the grid point ``z_q`` with code id k."""
        return self._codebook

    def extra_repr(self) -> str:
        return f"levels={self.levels}, num_codes={self.num_codes}, eps={self.eps}"

    def bound(self, z: Tensor) -> Tensor:
        """``f(z) = h tanh(z + c) - o`` per dimension, ``[..., D]`` (see the class docstring)."""
        return torch.tanh(z + self._shift) * self._half_l - self._offset

    def indices_to_digits(self, indices: Tensor) -> Tensor:
        """Mixed-radix digits ``a_d = (k // prod_{j<d} L_j) mod L_d`` ``[..., D]`` of code ids ``[...]``."""
        return torch.div(indices.long().unsqueeze(-1), self._basis, rounding_mode="floor") % self._levels

    def digits_to_indices(self, digits: Tensor) -> Tensor:
        """Code ids ``k = sum_d a_d prod_{j<d} L_j`` ``[...]`` of digits ``[..., D]`` (``torch.long``)."""
        return (digits.long() * self._basis).sum(-1)

    def indices_to_codes(self, indices: Tensor) -> Tensor:
        """Grid points ``z_q = (a - floor(L/2)) / floor(L/2)`` ``[..., D]`` of code ids ``[...]``."""
        return (self.indices_to_digits(indices) - self._half_width).float() / self._half_width

    def codes_to_indices(self, z_q: Tensor) -> Tensor:
        """Code ids ``[...]`` of grid points ``z_q`` ``[..., D]`` (the inverse of :meth:`indices_to_codes`)."""
        return self.digits_to_indices(torch.round(z_q * self._half_width) + self._half_width)

    def forward(self, z_e: Tensor) -> QuantizerOutput:
        """Quantize ``z_e`` ``[..., D]``; see :class:`QuantizerOutput` for the returned shapes."""
        if isinstance(z_e, Tensor) and z_e.ndim >= 1 and z_e.shape[-1] != self.code_dim:
            raise ValueError(f"z_e must have shape [..., {self.code_dim}] (one entry per level, "
                             f"levels={self.levels}), got {tuple(z_e.shape)}")
        check_tensor("z_e", z_e, last_dim=self.code_dim)
        lead = z_e.shape[:-1]
        bounded = self.bound(z_e.reshape(-1, self.code_dim))
        rounded = torch.round(bounded)
        z_hat = bounded + (rounded - bounded).detach()                   # round_ste
        z_q = (z_hat / self._half_width).to(z_e.dtype)
        indices = self.digits_to_indices(rounded.detach() + self._half_width)
        counts = torch.bincount(indices, minlength=self.num_codes).to(z_e.dtype)
        if self.training and distributed.is_active():   # data-parallel: the global batch's usage
            counts = distributed.all_reduce_sum(counts)
        return QuantizerOutput(
            z_q=z_q.reshape(*lead, self.code_dim),
            indices=indices.reshape(lead),
            probs=None,                                                  # one-hot at indices, on first read
            losses={},
            perplexity=perplexity(counts),
            counts=counts,
        )
