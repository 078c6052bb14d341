"""Tests for the notebook 08 widget (the FSQ implicit codebook): state, draw, builder."""
import math

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

from vqlab.quantizers import FSQuantizer  # noqa: E402
from vqlab.widgets._ui import SliderFigure  # noqa: E402
from vqlab.widgets.fsq import FSQState, draw_fsq, fsq_state, fsq_widget  # noqa: E402


@pytest.mark.parametrize("levels", [(5, 3), (2, 2), (9, 9), (4, 4, 4), (2, 9, 3)])
def test_grid_has_prod_levels_points_and_usage_sums_to_n(levels):
    s = fsq_state(levels, num_points=500)
    assert isinstance(s, FSQState)
    k = math.prod(levels)
    assert s.grid.shape == (k, len(levels)) and len(np.unique(s.grid, axis=0)) == k
    assert s.counts.shape == (k,) and s.counts.sum() == 500
    assert s.bounded.shape == s.z_q.shape == (500, len(levels))
    assert np.abs(s.grid).max() <= 1.0 and np.abs(s.bounded).max() <= 1.0 + 2e-3  # the 1 + eps margin of h
    assert 0 < s.usage_fraction <= 1 and 1 <= s.perplexity <= k + 1e-4


@pytest.mark.parametrize("scale", [10 ** -1.5, 1.0, 10 ** 1.5])   # the slider's extremes and default
@pytest.mark.parametrize("levels", [(2, 2, 2), (9, 9), (9, 9, 9)])
def test_slider_extremes_are_finite(scale, levels):
    s = fsq_state(levels, scale=scale)
    for arr in (s.grid, s.counts, s.bounded, s.z_q):
        assert np.isfinite(arr).all()
    assert math.isfinite(s.perplexity) and math.isfinite(s.usage_fraction)
    if scale < 0.1:  # latents near 0 land on the codes next to the origin only
        assert s.usage_fraction <= 8 / math.prod(levels)
    matplotlib.pyplot.close(draw_fsq(s))


def test_trained_latents_match_the_quantizer():
    z = torch.randn(3, 4, 4, 3)
    s = fsq_state((4, 4, 4), latents=z)
    out = FSQuantizer((4, 4, 4))(z)
    np.testing.assert_array_equal(s.counts, out.counts.numpy())
    assert s.scale is None and s.counts.sum() == 48


def test_draw_and_builder():
    fig = draw_fsq(fsq_state((4, 4, 4)))
    assert len(fig.axes) == 3 and fig.axes[0].name == "3d"  # grid, usage bars, colour bar
    matplotlib.pyplot.close("all")
    box = fsq_widget()
    assert isinstance(box, SliderFigure)
    names = {c.description for c in box.children if hasattr(c, "description")}
    assert {"D", "L₁", "L₂", "spread"} <= names
    assert fsq_widget(latents=torch.randn(10, 2)).children[0].options == (2,)
    matplotlib.pyplot.close("all")


def test_bad_arguments():
    for bad in [(5,), (5, 3, 4, 2), (5, 1), (5, 2.5), "53", 5]:
        with pytest.raises(ValueError, match="levels"):
            fsq_state(bad)
    with pytest.raises(ValueError, match="scale"):
        fsq_state((5, 3), scale=0.0)
    with pytest.raises(ValueError, match="latents"):
        fsq_state((5, 3), latents=torch.randn(4, 3))
