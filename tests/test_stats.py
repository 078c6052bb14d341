"""vqlab.stats: the paired per-seed difference and its Student-t interval."""
import math

import numpy as np
import pytest

from vqlab.stats import paired_difference


def test_interval_by_hand():
    # differences 1, 2, 3: mean 2, s_d = 1, t_{2, 0.975} = 4.302653, half-width 4.302653 / sqrt(3)
    d = paired_difference([3.0, 5.0, 7.0], [2.0, 3.0, 4.0], a="A", b="B", metric="mse")
    assert d.differences == (1.0, 2.0, 3.0) and d.n == 3
    assert d.mean == pytest.approx(2.0)
    assert d.low == pytest.approx(2.0 - 4.302653 / math.sqrt(3), abs=1e-5)
    assert d.high == pytest.approx(2.0 + 4.302653 / math.sqrt(3), abs=1e-5)
    assert not d.established and d.sign == 0           # the interval [-0.48, 4.48] contains 0
    assert "95 % CI [" in str(d) and "3 paired seeds" in str(d)


def test_matches_scipy_paired_t_test():
    from scipy import stats
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.3, 1.0, 10), rng.normal(0.0, 1.0, 10)
    d = paired_difference(a, b, confidence=0.9)
    lo, hi = stats.ttest_rel(a, b).confidence_interval(confidence_level=0.9)
    assert (d.low, d.high) == pytest.approx((lo, hi))


def test_coverage_is_nominal_with_three_seeds():
    # a normal-quantile interval (1.96) would cover only ~81 % with n = 3; Student's t covers 95 %
    rng = np.random.default_rng(1)
    hits = [paired_difference(x, np.zeros(3)).sign == 0 for x in rng.normal(0.0, 1.0, (4000, 3))]
    assert 0.94 < np.mean(hits) < 0.96


def test_verdicts():
    lower = paired_difference([0.10, 0.11, 0.12, 0.10], [0.20, 0.22, 0.21, 0.20], a="EMA", b="plain", metric="mse")
    assert lower.established and lower.sign == -1
    assert lower.verdict(higher_is_better=False) == "EMA beats plain on mse (established, 4 seeds)"
    assert lower.verdict(higher_is_better=True) == "plain beats EMA on mse (established, 4 seeds)"
    one = paired_difference([1.0], [0.0])
    assert math.isnan(one.low) and not one.established and "one seed" in str(one)
    assert "not established at this size" in one.verdict(higher_is_better=True)
    same = paired_difference([1.0, 2.0], [1.0, 2.0])
    assert (same.low, same.high) == (0.0, 0.0) and not same.established


@pytest.mark.parametrize("kwargs, match", [
    (dict(a_values=[1.0, 2.0], b_values=[1.0]), "same length"),
    (dict(a_values=[], b_values=[]), "non-empty"),
    (dict(a_values=[1.0, float("nan")], b_values=[1.0, 2.0]), "finite"),
    (dict(a_values=[1.0], b_values=[1.0], confidence=1.0), "confidence"),
    (dict(a_values=[1.0], b_values=[1.0], confidence=0.0), "confidence"),
])
def test_bad_input_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        paired_difference(**kwargs)


def test_verdict_needs_a_bool():
    with pytest.raises(TypeError, match="higher_is_better"):
        paired_difference([1.0, 2.0], [0.0, 0.0]).verdict(higher_is_better="yes")
