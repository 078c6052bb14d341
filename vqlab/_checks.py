"""Argument validation shared by every vqlab module: clear errors that name the argument."""
from __future__ import annotations

import math
from typing import Any

import torch


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer ``>= minimum``, else raise a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_float(name: str, value: Any, minimum: float | None = None, *, strict: bool = False,
                maximum: float | None = None) -> float:
    """Return ``float(value)`` if it is finite and within bounds, else raise a ValueError naming ``name``.

    ``strict=True`` makes the lower bound exclusive (e.g. a temperature must be > 0).
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if minimum is not None and (v <= minimum if strict else v < minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum}, got {value!r}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return v


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_tensor(name: str, x: Any, *, last_dim: int | None = None, min_ndim: int = 1,
                 ndim: int | None = None, floating: bool = True) -> torch.Tensor:
    """Check that ``x`` is a finite floating-point tensor of the expected shape
    (``floating=False`` also accepts integer tensors, e.g. code maps).

    Raises a ValueError (TypeError for non-tensors) that names ``name``, the expected shape and the
    shape received, instead of letting a cryptic error surface deep inside torch.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if floating and not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {tuple(x.shape)}")
    if last_dim is not None and x.shape[-1] != last_dim:
        raise ValueError(f"{name} must have shape [..., {last_dim}], got {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)})")
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x
