"""PixelCNN (van den Oord et al. 2016, arXiv:1601.06759) and the gated PixelCNN (arXiv:1606.05328) over
code maps (thesis §3.3).

PixelCNN masks convolution kernels (mask A, eq. 3.4, in the first layer; mask B, eq. 3.5, after it); the
gated PixelCNN (the thesis's ref. [23]) splits the network into a vertical and a horizontal stack so that
the receptive field has no blind spot, which :func:`~vqlab.priors.receptive_field` measures.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vqlab._checks import check_choice, check_int
from vqlab.priors.base import CodePrior

__all__ = ["MASK_TYPES", "conv_mask", "MaskedConv2d", "masked_conv_stack", "PixelCNN", "GatedPixelCNN",
           "receptive_field"]

MASK_TYPES = ("A", "B")


# ----------------------------------------------------------------------------- PixelCNN (thesis §3.3)
def conv_mask(kernel_size: int, mask_type: str) -> Tensor:
    """PixelCNN kernel mask ``[k, k]`` (thesis eqs. 3.4, 3.5), 0-indexed with centre ``c = k // 2``:

        type A:  M[i, j] = 1  if  i < c  or  (i = c and j < c)    (excludes the centre pixel)
        type B:  M[i, j] = 1  if  i < c  or  (i = c and j <= c)   (includes it)

    (The thesis writes the centre as ``ceil(n/2)`` with 1-based indices.) ``k`` must be odd.
    """
    k = check_int("kernel_size", kernel_size)
    if k % 2 == 0:
        raise ValueError(f"kernel_size must be odd (the mask needs a centre pixel), got {k}")
    check_choice("mask_type", mask_type, MASK_TYPES)
    c = k // 2
    i, j = torch.meshgrid(torch.arange(k), torch.arange(k), indexing="ij")
    keep = (i < c) | ((i == c) & ((j < c) if mask_type == "A" else (j <= c)))
    return keep.float()


class MaskedConv2d(nn.Conv2d):
    """A 'same'-padded convolution whose kernel is multiplied by a PixelCNN mask (eq. 3.4 or 3.5).

    Args:
        in_channels, out_channels: as ``nn.Conv2d``. kernel_size: odd k. mask_type: ``"A"`` (first
            layer: output at a pixel never sees that pixel) or ``"B"`` (later layers).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mask_type: str = "B"):
        mask = conv_mask(kernel_size, mask_type)
        super().__init__(check_int("in_channels", in_channels), check_int("out_channels", out_channels),
                         kernel_size, padding=kernel_size // 2)
        self.mask_type = mask_type
        self.register_buffer("mask", mask[None, None])

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)


def masked_conv_stack(in_channels: int, channels: int, kernel_size: int,
                      mask_types: Sequence[str]) -> nn.Sequential:
    """Masked convolutions with the given mask types (e.g. ``"ABBB"``), a ReLU after each."""
    if len(mask_types) == 0:
        raise ValueError("mask_types must name at least one layer")
    layers: list[nn.Module] = []
    for i, t in enumerate(mask_types):
        layers += [MaskedConv2d(in_channels if i == 0 else channels, channels, kernel_size, t), nn.ReLU()]
    return nn.Sequential(*layers)


def _check_stack(channels: int, n_layers: int, first_mask: str) -> None:
    """Arguments shared by :class:`PixelCNN` and :class:`GatedPixelCNN`."""
    check_int("channels", channels)
    check_int("n_layers", n_layers)
    check_choice("first_mask", first_mask, MASK_TYPES)


class PixelCNN(CodePrior):
    """Plain PixelCNN over code maps (van den Oord et al. 2016a; thesis §3.3).

    one-hot ``[N, K, H, W]`` -> masked conv type A -> (n_layers - 1) masked convs type B -> 1x1 convs ->
    logits ``[N, K, H, W]``, in raster order. Its receptive field has a *blind spot* above-right of
    each pixel (thesis Fig. 3.2), which :func:`receptive_field` makes visible.

    Args:
        num_codes: K. shape: ``(H, W)``. channels: hidden channels. kernel_size: odd k.
        n_layers: number of masked convolutions (>= 1).
        first_mask: mask type of the first layer, ``"A"`` (the autoregressive model). ``"B"`` lets each
            output see its own input and so breaks eq. 3.1; it exists only to show that in the notebook.
    """

    def __init__(self, num_codes: int, shape: tuple[int, int], channels: int = 64, kernel_size: int = 3,
                 n_layers: int = 4, first_mask: str = "A"):
        super().__init__(num_codes, shape)
        _check_stack(channels, n_layers, first_mask)
        self.body = masked_conv_stack(num_codes, channels, kernel_size, first_mask + "B" * (n_layers - 1))
        self.head = nn.Sequential(nn.Conv2d(channels, channels, 1), nn.ReLU(), nn.Conv2d(channels, num_codes, 1))

    def logits(self, x: Tensor) -> Tensor:
        return self.head(self.body(self.one_hot(x)))


class GatedLayer(nn.Module):
    """One gated PixelCNN layer (van den Oord et al. 2016b) with a vertical and a horizontal stack.

    Vertical stack: a ``(k//2 + 1) x k`` convolution over the rows *up to and including* the current
    one. It is shifted down one row before it feeds the horizontal stack, so pixel ``(i, j)`` only gets
    rows ``< i`` from it. Horizontal stack: a ``1 x (k//2 + 1)`` convolution over the current row up to
    column ``j`` (type B) or ``j - 1`` (type A, first layer). Both use the gate
    ``tanh(W_f * x) ⊙ sigmoid(W_g * x)``; the horizontal stack has a residual connection (type B layers
    whose input and output widths agree).
    """

    def __init__(self, in_channels: int, channels: int, kernel_size: int, mask_type: str):
        super().__init__()
        self.k = kernel_size
        self.mask_type = check_choice("mask_type", mask_type, MASK_TYPES)
        self.residual = mask_type == "B" and in_channels == channels
        self.v_conv = nn.Conv2d(in_channels, 2 * channels, (kernel_size // 2 + 1, kernel_size))
        self.h_conv = nn.Conv2d(in_channels, 2 * channels, (1, kernel_size // 2 + 1))
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_out = nn.Conv2d(channels, channels, 1)

    @staticmethod
    def gate(a: Tensor) -> Tensor:
        f, g = a.chunk(2, dim=1)
        return torch.tanh(f) * torch.sigmoid(g)

    def forward(self, v: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        c = self.k // 2
        v_pre = self.v_conv(F.pad(v, (c, c, c, 0)))              # rows i-c..i, cols j-c..j+c
        h_pre = self.h_conv(F.pad(h, (c, 0, 0, 0)))              # row i, cols j-c..j
        if self.mask_type == "A":
            h_pre = F.pad(h_pre, (1, 0))[..., :-1]               # shift right: cols j-c-1..j-1
        h_pre = h_pre + self.v_to_h(F.pad(v_pre, (0, 0, 1, 0))[:, :, :-1])   # shift down: rows < i
        h_new = self.h_out(self.gate(h_pre))
        return self.gate(v_pre), (h + h_new if self.residual else h_new)


class GatedPixelCNN(CodePrior):
    """Gated PixelCNN over code maps: ``n_layers`` :class:`GatedLayer` (first of type A), then 1x1
    convolutions on the horizontal stack to logits ``[N, K, H, W]``. No blind spot: the output at
    ``(i, j)`` can depend on every earlier pixel in raster order within its reach.

    Args: as :class:`PixelCNN` (``first_mask="B"`` again only to show the leak it causes).
    """

    def __init__(self, num_codes: int, shape: tuple[int, int], channels: int = 64, kernel_size: int = 3,
                 n_layers: int = 4, first_mask: str = "A"):
        super().__init__(num_codes, shape)
        _check_stack(channels, n_layers, first_mask)
        conv_mask(kernel_size, "A")  # validates kernel_size
        self.layers = nn.ModuleList(
            GatedLayer(num_codes if i == 0 else channels, channels, kernel_size, first_mask if i == 0 else "B")
            for i in range(n_layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, num_codes, 1))

    def logits(self, x: Tensor) -> Tensor:
        v = h = self.one_hot(x)
        for layer in self.layers:
            v, h = layer(v, h)
        return self.head(h)


def receptive_field(net: Callable[[Tensor], Tensor], in_channels: int, shape: tuple[int, int],
                    position: tuple[int, int], n_samples: int = 4, seed: int = 0) -> Tensor:
    """Which input pixels influence the output at ``position``, measured by gradients.

    Feeds ``n_samples`` random inputs ``[n_samples, in_channels, H, W]`` to ``net`` (which must return
    ``[n_samples, C_out, H, W]``), back-propagates the sum of the outputs at ``position`` and returns the
    mean absolute input gradient summed over channels, ``[H, W]``. Zero means "cannot influence".
    Random inputs (not one-hot) avoid gradients that vanish only by accident, e.g. in a dead ReLU.
    """
    check_int("in_channels", in_channels)
    check_int("n_samples", n_samples)
    i, j = position
    if not (0 <= i < shape[0] and 0 <= j < shape[1]):
        raise ValueError(f"position must lie inside the grid {tuple(shape)}, got {position}")
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
    x = torch.randn(n_samples, in_channels, *shape, generator=gen).requires_grad_(True)
    out = net(x)
    (grad,) = torch.autograd.grad(out[:, :, i, j].sum(), x)
    return grad.abs().sum(1).mean(0).detach()
