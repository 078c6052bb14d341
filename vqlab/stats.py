"""Comparing two methods over seeds: the paired per-seed difference and its 95 % interval.

Two methods trained with the same seeds share the data order and (where the factories allow) the initial
weights, so the per-seed differences ``d_s = a_s - b_s`` remove the part of the spread that both runs share.
The interval is Student's t interval for the mean of the ``n`` differences,

    d̄ ± t_{n-1, (1+c)/2} · s_d / √n,    s_d the sample std of the d_s (ddof=1),

and a comparison is **established** at confidence ``c`` when the interval excludes 0. Everything else is
"not established at this size": more seeds could tighten the interval, or the methods may not differ.
The notebooks print :class:`PairedDifference` beside every comparison they state, and assert only
``established`` verdicts (``vqlab.experiments.Comparison.paired`` builds one from a result table).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _scipy_stats

from vqlab._checks import check_float

__all__ = ["PairedDifference", "paired_difference"]


@dataclass(frozen=True)
class PairedDifference:
    """The mean of the per-seed differences ``a - b`` of one metric, with its t interval.

    Attributes:
        a, b: the two names compared (``a - b``). metric: the metric's name.
        differences: ``a_s - b_s`` for each seed, in the seeds' order.
        mean: their mean. low, high: the two-sided interval at ``confidence`` (``nan`` for one seed).
        confidence: e.g. 0.95.
    """

    a: str
    b: str
    metric: str
    differences: tuple[float, ...]
    mean: float
    low: float
    high: float
    confidence: float

    @property
    def n(self) -> int:
        """The number of paired seeds."""
        return len(self.differences)

    @property
    def established(self) -> bool:
        """True when the interval excludes 0 (the sign of ``a - b`` is established at ``confidence``)."""
        return bool(self.low > 0 or self.high < 0)

    @property
    def sign(self) -> int:
        """+1 if ``a - b > 0`` is established, -1 if ``a - b < 0`` is, 0 if neither."""
        return 1 if self.low > 0 else -1 if self.high < 0 else 0

    def verdict(self, *, higher_is_better: bool) -> str:
        """A sentence on which of ``a`` and ``b`` is better in ``metric``, or that it is not established."""
        if not isinstance(higher_is_better, bool):
            raise TypeError(f"higher_is_better must be a bool, got {higher_is_better!r}")
        if self.sign == 0:
            return f"{self.a} vs {self.b} on {self.metric}: not established at this size ({self.n} seeds)"
        better = self.a if (self.sign > 0) == higher_is_better else self.b
        worse = self.b if better == self.a else self.a
        return f"{better} beats {worse} on {self.metric} (established, {self.n} seeds)"

    def __str__(self) -> str:
        pct = f"{100 * self.confidence:g} %"
        if self.n < 2:
            return f"{self.a} - {self.b} [{self.metric}]: {self.mean:+.4g} (one seed: no interval)"
        return (f"{self.a} - {self.b} [{self.metric}]: {self.mean:+.4g}, {pct} CI [{self.low:+.4g}, "
                f"{self.high:+.4g}] over {self.n} paired seeds")


def paired_difference(a_values: Sequence[float], b_values: Sequence[float], *, a: str = "a", b: str = "b",
                      metric: str = "value", confidence: float = 0.95) -> PairedDifference:
    """The mean per-seed difference ``a_values - b_values`` and its Student-t interval (module docstring).

    Args:
        a_values, b_values: one value per seed each, the same seeds in the same order (length n >= 1).
        a, b, metric: names used when printing.
        confidence: the interval's coverage, in (0, 1).
    Returns:
        a :class:`PairedDifference`; with one seed its interval is ``(nan, nan)`` and nothing is established.
    """
    confidence = check_float("confidence", confidence, 0.0, strict=True, maximum=1.0)
    if confidence >= 1.0:
        raise ValueError(f"confidence must be < 1, got {confidence!r}")
    x = np.asarray(a_values, dtype=float)
    y = np.asarray(b_values, dtype=float)
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"a_values and b_values must be two non-empty sequences of the same length (one value "
                         f"per seed), got lengths {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("a_values and b_values must be finite")
    d = x - y
    mean = float(d.mean())
    if len(d) < 2:
        low = high = math.nan
    else:
        half = float(_scipy_stats.t.ppf((1 + confidence) / 2, df=len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
        low, high = mean - half, mean + half
    return PairedDifference(a, b, metric, tuple(float(v) for v in d), mean, low, high, confidence)
