"""Tests of notebook 02's widget state/draw/builder (vqlab.widgets)."""
import math

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from vqlab.widgets.ib import IB_TOY_LOG10_TAUS, draw_ib_toy, ib_toy_state, ib_toy_widget  # noqa: E402


@pytest.mark.parametrize("log10_tau", [-3.0, -1.0, 0.0, 1.5])
@pytest.mark.parametrize("num_codes", [1, 4, 9])
def test_state_terms_satisfy_the_vib_identities(log10_tau, num_codes):
    s = ib_toy_state(log10_tau, num_codes, resolution=20)
    t = s.terms
    log_k = math.log(num_codes)
    assert 0.0 <= t["conditional_entropy"] <= log_k + 1e-9
    assert math.isclose(t["cross_entropy"], log_k, abs_tol=1e-9)                          # eq. 25, uniform r
    assert math.isclose(t["rate_bound"], t["cross_entropy"] - t["conditional_entropy"], abs_tol=1e-9)  # eq. 26
    assert t["rate_bound"] >= t["mutual_information"] - 1e-12                               # eq. 14
    assert math.isclose(t["rate_bound"] - t["mutual_information"], t["gap"], abs_tol=1e-9)  # eq. 16
    assert s.heat.shape == (20, 20) and (s.heat >= -1e-12).all() and (s.heat <= log_k + 1e-9).all()


def test_curve_is_a_rate_distortion_tradeoff():
    s = ib_toy_state(-1.0, 6)
    c = s.curve
    assert len(c["tau"]) == len(IB_TOY_LOG10_TAUS)
    # raising the temperature (= VIB beta) trades rate for distortion: both monotone
    assert all(b >= a - 1e-12 for a, b in zip(c["distortion"], c["distortion"][1:]))
    assert all(b <= a + 1e-12 for a, b in zip(c["rate_bound"], c["rate_bound"][1:]))
    assert all(b >= a - 1e-12 for a, b in zip(c["conditional_entropy"], c["conditional_entropy"][1:]))
    # tau -> 0 is hard VQ: H(p(Z|I)) = 0, rate bound log K, and the smallest distortion
    assert s.hard["conditional_entropy"] == 0.0
    assert math.isclose(s.hard["rate_bound"], math.log(6), abs_tol=1e-12)
    assert s.hard["distortion"] <= min(c["distortion"]) + 1e-12


def test_extreme_slider_values_give_finite_numbers_and_a_figure():
    for log10_tau in (-300.0, 300.0):
        s = ib_toy_state(log10_tau, 32)
        assert all(math.isfinite(v) for v in s.terms.values())
    fig = draw_ib_toy(ib_toy_state(-3.0, 1))
    assert len(fig.axes) >= 2
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("kwargs, message", [
    ({"log10_tau": float("nan")}, "log10_tau"),
    ({"num_codes": 0}, "num_codes"),
    ({"num_codes": 500, "n": 100}, "num_codes must be <="),
    ({"dataset": "spiral"}, "dataset"),
    ({"resolution": 1}, "resolution"),
])
def test_state_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ib_toy_state(**kwargs)


def test_builder_returns_a_slider_figure():
    from vqlab.widgets._ui import SliderFigure

    ui = ib_toy_widget()
    assert isinstance(ui, SliderFigure)
    assert {c.description for c in ui.controls.values()} == {"log10 w_IB", "K", "data"}


# ---------------------------------------------------------------- the EM steps picture (§4)
def test_em_steps_are_em_and_a_large_temperature_merges_the_codewords():
    from vqlab.widgets.ib import em_steps_state

    small, large = em_steps_state(tau=0.3, steps=10), em_steps_state(tau=30.0, steps=10)
    for st in (small, large):
        assert st.codebooks.shape == (11, 5, 2) and len(st.log_likelihood) == 11
        assert all(b >= a - 1e-5 for a, b in zip(st.log_likelihood, st.log_likelihood[1:]))   # EM never goes down
        assert st.log_likelihood[-1] > st.log_likelihood[0]
    mean = large.points.mean(0)
    assert (large.codebooks[-1] - mean).norm(dim=1).max() < 1e-3         # tau >> data spread: all at the mean
    assert (small.codebooks[-1] - mean).norm(dim=1).max() > 1.0          # tau = 0.3: the clusters stay apart


def test_draw_em_steps_has_one_panel_per_run_and_the_likelihood():
    from vqlab.widgets.ib import draw_em_steps, em_steps_state

    fig = draw_em_steps([em_steps_state(tau=0.5, steps=3), em_steps_state(tau=5.0, steps=3)])
    assert len(fig.axes) == 3 and len(fig.axes[-1].lines) == 2
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("kwargs, message", [
    ({"tau": 0.0}, "tau"),
    ({"num_codes": 0}, "num_codes"),
    ({"num_codes": 50, "n": 10}, "num_codes must be <="),
    ({"steps": 0}, "steps"),
    ({"dataset": "spiral"}, "dataset"),
])
def test_em_steps_state_validation(kwargs, message):
    from vqlab.widgets.ib import em_steps_state

    with pytest.raises(ValueError, match=message):
        em_steps_state(**kwargs)
