"""Tests for the notebook 09 widget (gradient estimators against the smoothed loss's gradient)."""
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from vqlab.experiments.gradients import ESTIMATOR_LABELS, gradient_problem, reference_gradient  # noqa: E402
from vqlab.widgets._ui import SliderFigure  # noqa: E402
from vqlab.widgets.gradients import TEMPERATURES, GradientState, draw_gradients, gradient_state, gradients_widget  # noqa: E402


def test_state_holds_the_problem_the_reference_and_the_sweep():
    s = gradient_state(0.3, "DiVeQ")
    assert isinstance(s, GradientState) and s.z_e.shape == s.target.shape == s.estimate.shape == (48, 2)
    assert s.codebook.shape == (8, 2) and np.allclose(s.target - s.z_e, [0.5, 0.0])
    ref = reference_gradient(gradient_problem(), 0.3).mean.numpy()
    assert np.allclose(s.reference, ref)
    cos = (s.estimate * s.reference).sum() / (np.linalg.norm(s.estimate) * np.linalg.norm(s.reference))
    assert s.cosine == pytest.approx(cos) and -1 <= s.cosine <= 1
    assert s.magnitude == pytest.approx(np.linalg.norm(s.estimate) / np.linalg.norm(s.reference))
    assert list(s.sweep) == list(ESTIMATOR_LABELS.values())
    assert all(v.shape == (len(TEMPERATURES),) and (np.abs(v) <= 1 + 1e-9).all() for v in s.sweep.values())


@pytest.mark.parametrize("temperature", [TEMPERATURES[0], TEMPERATURES[-1]])   # the slider's ends
def test_slider_extremes_are_finite(temperature):
    for label in ESTIMATOR_LABELS.values():
        s = gradient_state(temperature, label)
        assert np.isfinite(s.estimate).all() and np.isfinite(s.reference).all() and np.isfinite(s.cosine)
    matplotlib.pyplot.close(draw_gradients(s))


def test_the_estimators_that_share_the_posterior_track_the_reference_at_high_temperature():
    """At tau = 10 the posterior mean and straight-through Gumbel follow the smoothed loss (cos > 0.9);
    straight-through does not depend on tau and stays far from it on this problem."""
    sweep = gradient_state(TEMPERATURES[-1]).sweep
    assert sweep["posterior mean"][-1] > 0.9 and sweep["straight-through Gumbel"][-1] > 0.9
    assert sweep["straight-through"][-1] < 0.7


def test_draw_and_builder():
    fig = draw_gradients(gradient_state())
    assert len(fig.axes) == 2 and fig.axes[1].get_xscale() == "log"
    matplotlib.pyplot.close("all")
    box = gradients_widget()
    assert isinstance(box, SliderFigure) and set(box.controls) == {"temperature", "estimator"}
    assert box.controls["temperature"].value == pytest.approx(TEMPERATURES[6])
    matplotlib.pyplot.close("all")


def test_bad_arguments():
    with pytest.raises(ValueError, match="temperature"):
        gradient_state(0.0)
    with pytest.raises(ValueError, match="estimator"):
        gradient_state(1.0, "REINFORCE")
    with pytest.raises(ValueError, match="num_codes"):
        gradient_state(1.0, num_codes=0)
