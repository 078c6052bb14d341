"""Autoregressive priors over VQ-VAE code maps: MADE, PixelCNN and gated PixelCNN (stage 2 of a VQ-VAE).

Source: the neural-gas thesis (Badran 2021, master thesis),
§3.1-3.3 and §5.3. A code map ``z`` of shape ``[H, W]`` with entries in ``{0, ..., K-1}`` is modelled
with the chain rule (eq. 3.1) in a fixed ordering of its ``n = H W`` positions,

    p(z) = prod_i p(z_i | z_<i),        log p(z) = sum_i log p(z_i | z_<i)      (eqs. 3.1, 3.2),

where one network outputs all ``n`` conditionals at once and masks guarantee that output ``i`` only
sees inputs ``< i`` (the *autoregressive property*): MADE masks the weights of an MLP (eq. 3.3),
PixelCNN masks convolution kernels (mask A, eq. 3.4, in the first layer; mask B, eq. 3.5, after it),
and the gated PixelCNN (van den Oord et al. 2016, the thesis's ref. [23]) splits the network into a
vertical and a horizontal stack so that the receptive field has no blind spot.

Every prior here is a :class:`CodePrior`: ``prior(x)`` with ``x`` a ``[N, H, W]`` long code map returns
a :class:`PriorOutput` whose ``losses = {"nll": bits per code}``, so :func:`vqlab.train.train` trains
it as it trains any other model. The same API (``bits_per_code``, ``sample``, ``complete``) serves the
two baselines, :class:`UniformPrior` (``log2 K`` bits per code) and :class:`UnigramPrior` (independent
per-position code frequencies).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vqlab._checks import check_choice, check_float, check_int, check_tensor
from vqlab.train import resolve_device

__all__ = [
    "PriorOutput", "CodePrior", "UniformPrior", "UnigramPrior", "MADE", "made_masks", "MaskedLinear",
    "conv_mask", "MaskedConv2d", "masked_conv_stack", "PixelCNN", "GatedPixelCNN", "bits_per_code",
    "tempered_probs", "receptive_field", "raster_order",
]

MASK_TYPES = ("A", "B")


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


# ----------------------------------------------------------------------------- MADE (thesis §3.2)
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


# ----------------------------------------------------------------------------- receptive fields
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
