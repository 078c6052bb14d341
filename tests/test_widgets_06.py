"""Tests for the notebook 06 widget (HC-VQ sliders): state, draw, builder."""
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from vqlab.widgets.hcvq import HCVQState, draw_hcvq, hcvq_state, hcvq_widget  # noqa: E402

SMALL = dict(epochs=1, n_train=96)


def test_state_shapes_and_finite():
    s = hcvq_state(100.0, 0.5, 1.0, 2, **SMALL)
    assert isinstance(s, HCVQState)
    n = len(s.steps)
    assert n == 2  # 96 digits, batch 64
    for arr in (s.usage_hcvq, s.usage_dry, s.mu0_hcvq, s.mu0_dry, s.gate):
        assert arr.shape == (n,) and np.isfinite(arr).all()
    assert (s.usage_hcvq >= 0).all() and (s.usage_hcvq <= np.log(128) + 1e-6).all()
    assert len(s.diagram) == 2 and all(np.isfinite(d).all() for d in s.diagram)
    assert {"recon", "usage_entropy", "mu0", "n1"} <= set(s.test)


def test_weight_zero_and_code_mode_before_p_equal_the_dry_run():
    """w = 0, or the code's factor before the first P steps, leave training exactly as the dry run."""
    for s in (hcvq_state(100.0, 0.5, 0.0, 2, **SMALL), hcvq_state(100.0, 0.5, 1.0, 50, mode="code", **SMALL)):
        np.testing.assert_array_equal(s.usage_hcvq, s.usage_dry)
        assert s.test["recon"] == s.test_dry["recon"]
    on = hcvq_state(100.0, 2.0, 1.0, 1, epochs=2, n_train=256)
    assert on.test["mu0"] > on.test_dry["mu0"]  # the term acts: the codebook spreads
    assert np.all(np.diff(on.mu0_hcvq[-5:]) > 0)


@pytest.mark.parametrize("values", [(0.0, 0.0, 1e-6, 1), (200.0, 4.0, 10.0, 1), (200.0, 4.0, 10.0, 50)])
def test_extreme_sliders_no_nan(values):
    s = hcvq_state(*values, **SMALL)
    assert np.isfinite(s.usage_hcvq).all() and np.isfinite(s.mu0_hcvq).all()
    assert all(np.isfinite(v) for k, v in s.test.items())


def test_draw_and_builder():
    from vqlab.widgets._ui import SliderFigure

    fig = draw_hcvq(hcvq_state(**SMALL))
    assert len(fig.axes) == 3
    matplotlib.pyplot.close("all")
    box = hcvq_widget(**SMALL)
    assert isinstance(box, SliderFigure) and "vqlab-trains" in box._dom_classes
    names = {c.description for c in box.children if hasattr(c, "description")}
    assert {"T_n1", "T_mu", "w", "P", "mode"} <= names
    matplotlib.pyplot.close("all")


def test_bad_arguments():
    with pytest.raises(ValueError, match="target_mu"):
        hcvq_state(100.0, -1.0, **SMALL)
    with pytest.raises(ValueError, match="period"):
        hcvq_state(100.0, 0.5, 1.0, 0, **SMALL)
    with pytest.raises(ValueError, match="mode"):
        hcvq_state(mode="lightning", **SMALL)
    with pytest.raises(ValueError, match="weight"):
        hcvq_state(weight=float("inf"), **SMALL)


def test_committed_notebook_shows_a_saved_picture_for_every_widget():
    """The HC-VQ widget of notebook 06 shows its saved picture before the notebook is run (issue 30)."""
    from committed import notebook_paths, saved_widget_pictures

    (path,) = [p for p in notebook_paths() if p.stem == "06_hcvq_entropy_regularizer"]
    assert saved_widget_pictures(path) == [(True, [["image/png"]])]
