"""Encoders and decoders: small MLPs for flat inputs and small conv nets for images.

Conv encoders return **channels-last** latents ``[N, H', W', D]`` so that every quantizer, which works
on ``[..., D]``, can be applied to a grid of latents without reshaping in the notebook.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from vqlab._checks import check_choice, check_int

__all__ = ["MLPEncoder", "MLPDecoder", "ConvEncoder", "ConvDecoder", "mlp"]


def _as_shape(name: str, shape: int | Sequence[int]) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    if not dims:
        raise ValueError(f"{name} must not be empty")
    for d in dims:
        check_int(name, d)
    return dims


def mlp(widths: Sequence[int], activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers ``widths[0] -> widths[1] -> ... -> widths[-1]`` with ``activation`` between them
    (none after the last layer)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    """MLP encoder ``[N, in_dim] -> [N, *latent_shape]``.

    Args:
        in_dim: input features (64 for 8x8 digits).
        latent_shape: ``D`` for one latent vector, or ``(M, D)`` for M latent vectors of size D (so a
            quantizer assigns M codes per input).
        hidden: widths of the hidden layers, e.g. ``(128, 64)``.
    """

    def __init__(self, in_dim: int, latent_shape: int | Sequence[int], hidden: Sequence[int] = (128, 64)):
        super().__init__()
        self.in_dim = check_int("in_dim", in_dim)
        self.latent_shape = _as_shape("latent_shape", latent_shape)
        hidden = tuple(check_int("hidden", h) for h in hidden)
        self.net = mlp((self.in_dim, *hidden, math.prod(self.latent_shape)))

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.in_dim:
            raise ValueError(f"x must have {self.in_dim} features per example, got shape {tuple(x.shape)}")
        return self.net(x).reshape(x.shape[0], *self.latent_shape)


class MLPDecoder(nn.Module):
    """MLP decoder ``[N, *latent_shape] -> [N, out_dim]`` (sigmoid output for data in [0, 1]).

    Args:
        latent_shape: as for :class:`MLPEncoder`. out_dim: output features.
        hidden: hidden widths (usually the encoder's, reversed).
        output: ``"sigmoid"`` (pixels in [0, 1]) or ``"linear"``.
    """

    def __init__(self, latent_shape: int | Sequence[int], out_dim: int, hidden: Sequence[int] = (64, 128),
                 output: str = "sigmoid"):
        super().__init__()
        self.latent_shape = _as_shape("latent_shape", latent_shape)
        self.out_dim = check_int("out_dim", out_dim)
        hidden = tuple(check_int("hidden", h) for h in hidden)
        self.output = check_choice("output", output, ("sigmoid", "linear"))
        self.net = mlp((math.prod(self.latent_shape), *hidden, self.out_dim))

    def forward(self, z: Tensor) -> Tensor:
        if tuple(z.shape[1:]) != self.latent_shape:
            raise ValueError(f"z must have shape [N, {', '.join(map(str, self.latent_shape))}], "
                             f"got {tuple(z.shape)}")
        out = self.net(z.reshape(z.shape[0], -1))
        return torch.sigmoid(out) if self.output == "sigmoid" else out


class ConvEncoder(nn.Module):
    """Conv encoder ``[N, C, H, W] -> [N, H / 2^n_down, W / 2^n_down, latent_dim]`` (channels-last).

    Each downsampling step is a 4x4 convolution with stride 2 (as in the VQ-VAE paper), followed by a
    3x3 convolution and a 1x1 projection to ``latent_dim``. For 8x8 digits, ``n_down=1`` gives a 4x4
    grid of latents. ``channels``: the width of every hidden convolution (the MLP nets' ``hidden`` is a
    list of layer widths; here one channel count).
    """

    def __init__(self, in_channels: int = 1, latent_dim: int = 16, channels: int = 32, n_down: int = 1):
        super().__init__()
        check_int("in_channels", in_channels)
        self.latent_dim = check_int("latent_dim", latent_dim)
        check_int("channels", channels)
        self.n_down = check_int("n_down", n_down)
        layers: list[nn.Module] = []
        ch = in_channels
        for _ in range(n_down):
            layers += [nn.Conv2d(ch, channels, 4, stride=2, padding=1), nn.ReLU()]
            ch = channels
        layers += [nn.Conv2d(ch, channels, 3, padding=1), nn.ReLU(), nn.Conv2d(channels, latent_dim, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ValueError(f"x must be images [N, C, H, W], got shape {tuple(x.shape)}")
        return self.net(x).permute(0, 2, 3, 1)


class ConvDecoder(nn.Module):
    """Conv decoder ``[N, H', W', latent_dim] -> [N, out_channels, H' 2^n_up, W' 2^n_up]`` (sigmoid).

    Mirrors :class:`ConvEncoder`: a 3x3 convolution, then ``n_up`` transposed 4x4 convolutions of
    stride 2.
    """

    def __init__(self, out_channels: int = 1, latent_dim: int = 16, channels: int = 32, n_up: int = 1):
        super().__init__()
        check_int("out_channels", out_channels)
        self.latent_dim = check_int("latent_dim", latent_dim)
        check_int("channels", channels)
        check_int("n_up", n_up)
        layers: list[nn.Module] = [nn.Conv2d(latent_dim, channels, 3, padding=1), nn.ReLU()]
        for i in range(n_up):
            out = out_channels if i == n_up - 1 else channels
            layers.append(nn.ConvTranspose2d(channels, out, 4, stride=2, padding=1))
            if i < n_up - 1:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        if z.ndim != 4 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must be channels-last latents [N, H, W, {self.latent_dim}], "
                             f"got shape {tuple(z.shape)}")
        return torch.sigmoid(self.net(z.permute(0, 3, 1, 2)))
