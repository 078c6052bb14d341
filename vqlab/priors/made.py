"""MADE, masked autoencoders for distribution estimation (Germain et al. 2015, arXiv:1502.03509; thesis §3.2).

One MLP outputs all conditionals ``p(z_i | z_<i)`` of a code map at once; masks on its weights (eq. 3.3)
guarantee that output ``i`` only sees inputs earlier in the ordering (the *autoregressive property*).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vqlab._checks import check_int
from vqlab.priors.base import CodePrior

__all__ = ["made_masks", "MaskedLinear", "MADE"]


def made_masks(n_inputs: int, hidden: Sequence[int], order: Tensor | None = None,
               num_classes: int = 1) -> list[Tensor]:
    """MADE masks ``M^l`` for an MLP ``n_inputs -> hidden... -> n_inputs`` (thesis eq. 3.3, Germain et al.).

    Every unit gets a degree ``m``: input ``d`` has ``m(d) = `` its rank in ``order`` (1..n); hidden
    unit ``k`` of each layer gets ``m(k) = 1 + (k mod (n-1))`` (a deterministic cyclic assignment).
    Hidden masks connect ``m(k) >= m(prev)``; the output mask connects output ``d`` to hidden unit
    ``k`` only if ``m(d) > m(k)``, so output ``d`` depends only on inputs earlier in the ordering.

    Args:
        n_inputs: n >= 2 positions. hidden: hidden widths (each >= 1).
        order: a permutation of ``range(n)`` (default: ``0, 1, ..., n-1``).
        num_classes: K; each position is a block of K one-hot input units and K output logits
            (thesis §3.2, last paragraph), laid out position-major.
    Returns:
        masks shaped like ``nn.Linear`` weights ``[out, in]`` (float 0/1), one per layer.
    """
    n = check_int("n_inputs", n_inputs, 2)
    k = check_int("num_classes", num_classes)
    hidden = [check_int("hidden", h) for h in hidden]
    if not hidden:
        raise ValueError("hidden must list at least one hidden width")
    order = torch.arange(n) if order is None else _check_order(order, n)
    deg_in = torch.empty(n, dtype=torch.long)
    deg_in[order] = torch.arange(1, n + 1)
    degrees = [deg_in] + [1 + torch.arange(h) % (n - 1) for h in hidden]
    masks = [(d_out[:, None] >= d_prev[None, :]).float() for d_prev, d_out in zip(degrees[:-1], degrees[1:])]
    masks.append((deg_in[:, None] > degrees[-1][None, :]).float())
    masks[0] = masks[0].repeat_interleave(k, dim=1)
    masks[-1] = masks[-1].repeat_interleave(k, dim=0)
    return masks


def _check_order(order: Tensor, n: int) -> Tensor:
    order = torch.as_tensor(order, dtype=torch.long).flatten()
    if order.numel() != n or not torch.equal(order.sort().values, torch.arange(n)):
        raise ValueError(f"order must be a permutation of range({n}), got {order.tolist()}")
    return order


class MaskedLinear(nn.Linear):
    """``h = b + (M ⊙ W) x`` (thesis eq. 3.3, before the activation); ``mask`` ``[out, in]`` is a buffer."""

    def __init__(self, in_features: int, out_features: int, mask: Tensor):
        super().__init__(in_features, out_features)
        if mask.shape != self.weight.shape:
            raise ValueError(f"mask must have shape {tuple(self.weight.shape)}, got {tuple(mask.shape)}")
        self.register_buffer("mask", mask.float())

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.mask * self.weight, self.bias)


class MADE(CodePrior):
    """MADE over code maps: an MLP on the flattened one-hot map whose weights are masked (eq. 3.3).

    Input ``[N, H, W]`` long -> one-hot ``[N, H W K]`` -> masked hidden layers (ReLU) -> logits
    ``[N, K, H, W]``. Output at position ``i`` depends only on the positions before ``i`` in ``order``.

    Args:
        num_codes: K. shape: ``(H, W)``. hidden: hidden widths.
        order: permutation of the ``H W`` flat positions (default raster); sampling follows it.
    """

    def __init__(self, num_codes: int, shape: tuple[int, int], hidden: Sequence[int] = (256,),
                 order: Tensor | None = None):
        super().__init__(num_codes, shape)
        n = self.shape[0] * self.shape[1]
        if order is not None:
            self.order.copy_(_check_order(order, n))
        masks = made_masks(n, hidden, self.order, num_codes)
        widths = [n * num_codes, *hidden, n * num_codes]
        layers: list[nn.Module] = []
        for i, m in enumerate(masks):
            layers.append(MaskedLinear(widths[i], widths[i + 1], m))
            if i < len(masks) - 1:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def connectivity(self) -> Tensor:
        """``[n, n]`` bool: entry ``(i, j)`` is True if some path of unmasked weights joins input
        position ``j`` to output position ``i`` (the product of the masks, eq. 3.3)."""
        path = None
        for layer in self.net:
            if isinstance(layer, MaskedLinear):
                path = layer.mask if path is None else layer.mask @ path
        k = self.num_codes
        n = path.shape[0] // k
        return path.reshape(n, k, n, k).sum((1, 3)) > 0

    def logits(self, x: Tensor) -> Tensor:
        h = self.one_hot(x)
        n, k = h.shape[0], self.num_codes
        out = self.net(h.permute(0, 2, 3, 1).reshape(n, -1))
        return out.reshape(n, *self.shape, k).permute(0, 3, 1, 2)
