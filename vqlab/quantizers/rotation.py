"""The rotation trick (Fifty et al. 2024, arXiv:2410.06424): a gradient path through a quantizer that
rotates and rescales the decoder's gradient from ``z_q`` back onto ``z_e`` instead of copying it.

Used by :class:`vqlab.quantizers.VectorQuantizer` (``rotation_trick=True``, notebook 08).
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["rotation_trick"]


class _RotationTrick(torch.autograd.Function):
    """Forward: ``z_e + (z_q - z_e)``. Backward: ``dL/dz_e = s R^T dL/dz_q`` (see :func:`rotation_trick`)."""

    @staticmethod
    def forward(ctx, z_e: Tensor, z_q: Tensor) -> Tensor:
        ctx.save_for_backward(z_e, z_q)
        return z_e + (z_q - z_e)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        z_e, z_q = ctx.saved_tensors
        tiny = torch.finfo(z_e.dtype).tiny
        norm_e = z_e.norm(dim=-1, keepdim=True)
        norm_q = z_q.norm(dim=-1, keepdim=True)
        e = z_e / norm_e.clamp_min(tiny)
        q = z_q / norm_q.clamp_min(tiny)
        r = e + q
        r = r / r.norm(dim=-1, keepdim=True).clamp_min(tiny)
        # R^T g = g - 2 r (r . g) + 2 e (q . g), then the rescaling s = |z_q| / |z_e|.
        rotated = grad - 2.0 * r * (r * grad).sum(-1, keepdim=True) + 2.0 * e * (q * grad).sum(-1, keepdim=True)
        rotated = rotated * (norm_q / norm_e.clamp_min(tiny))
        degenerate = (norm_e <= tiny) | (norm_q <= tiny)
        return torch.where(degenerate, grad, rotated), None


def rotation_trick(z_e: Tensor, z_q: Tensor) -> Tensor:
    """The rotation trick (Fifty et al. 2024, arXiv:2410.06424, eq. 4 and §4.2): a decoder input equal to
    ``z_q`` whose gradient reaches ``z_e`` through the rotation and rescaling that carry ``z_e`` onto ``z_q``.

    With ``e = z_e / |z_e|``, ``q = z_q / |z_q|`` and ``r = (e + q) / |e + q|``, the map
    ``R = I - 2 r r^T + 2 q e^T`` is the rotation in the plane of ``e`` and ``q`` with ``R e = q``, and

    ``z~_q = sg(|z_q| / |z_e| * R) z_e`` (``= z_q`` in the forward pass), so that
    ``dL/dz_e = (|z_q| / |z_e|) R^T dL/dz~_q`` (the straight-through estimator would copy ``dL/dz~_q``).

    ``R`` and the scale are constants (stop-gradient), so no gradient reaches ``z_q`` (the codebook learns
    from its own loss or EMA). The forward value is computed as ``z_e + (z_q - z_e)``, bit for bit the
    straight-through estimator's value (``z_q`` up to one rounding), so switching estimators changes only
    the backward pass; a custom autograd function supplies the rotated gradient. Degenerate rows: if
    ``|z_e| = 0`` or ``|z_q| = 0`` the rotation is undefined and the gradient is copied unchanged
    (straight-through); if ``e = -q`` then ``r = 0`` and ``R = I - 2 q q^T``, the reflection that still
    maps ``e`` onto ``q``. Never NaN.

    Args:
        z_e: ``[..., D]`` encoder outputs. z_q: ``[..., D]`` their codewords (gradient not used).
    Returns:
        ``[..., D]``, equal to ``z_e + sg(z_q - z_e)``.
    """
    return _RotationTrick.apply(z_e, z_q.detach())
