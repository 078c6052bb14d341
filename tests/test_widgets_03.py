"""Notebook 03 widget: soft assignment regions and the posterior-mean estimator on a 2-D codebook."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vqlab.widgets.soft_vq import SOFT_VQ_CODEBOOK, draw_soft_vq, soft_vq_state, soft_vq_widget  # noqa: E402


def test_state_shapes_and_convexity():
    s = soft_vq_state(sigma=0.5, noise_std=0.3, num_samples=50, resolution=40)
    k = len(SOFT_VQ_CODEBOOK)
    assert s.codebook.shape == (k, 2) and s.region.shape == (40, 40)
    assert s.noisy.shape == (50, 2) and s.noisy_est.shape == (50, 2)
    assert s.slice_soft.shape == (40, 2) and s.slice_hard.shape == (40, 2)
    assert np.isclose(s.probs_probe.sum(), 1.0)
    assert np.allclose(s.soft, s.probs_probe @ s.codebook)
    assert ((s.confidence >= 1.0 / k - 1e-9) & (s.confidence <= 1.0 + 1e-9)).all()
    lo, hi = s.codebook.min(0), s.codebook.max(0)
    assert ((s.noisy_est >= lo - 1e-9) & (s.noisy_est <= hi + 1e-9)).all()


def test_small_sigma_is_hard_vq_large_sigma_is_the_codebook_mean():
    hard = soft_vq_state(sigma=1e-3, noise_std=0.0, resolution=30)
    assert np.allclose(hard.soft, hard.hard, atol=1e-9)
    assert np.allclose(hard.slice_soft, hard.slice_hard, atol=1e-6)
    flat = soft_vq_state(sigma=1e3, noise_std=0.0, resolution=30)
    assert np.allclose(flat.soft, flat.codebook.mean(0), atol=1e-5)
    assert flat.confidence.max() < 1.0 / len(SOFT_VQ_CODEBOOK) + 1e-4


def test_noise_spreads_the_observations_and_is_seeded():
    a = soft_vq_state(noise_std=0.0, num_samples=20)
    assert np.allclose(a.noisy, a.probe)
    b, c = soft_vq_state(noise_std=0.4, seed=1), soft_vq_state(noise_std=0.4, seed=1)
    assert np.array_equal(b.noisy, c.noisy)
    assert abs(b.noisy.std(0).mean() - 0.4) < 0.1


@pytest.mark.parametrize("sigma,noise", [(1e-3, 0.0), (10.0, 1.0), (0.4, 0.2)])
def test_extreme_sliders_are_finite_and_draw(sigma, noise):
    s = soft_vq_state(sigma, noise, probe=(1.8, -1.8), resolution=30)
    for key in ("confidence", "noisy_est", "slice_soft", "soft"):
        assert np.isfinite(getattr(s, key)).all()
    fig = draw_soft_vq(s)
    assert len(fig.axes) == 2
    matplotlib.pyplot.close(fig)


def test_bad_arguments():
    with pytest.raises(ValueError, match="sigma"):
        soft_vq_state(sigma=0.0)
    with pytest.raises(ValueError, match="noise_std"):
        soft_vq_state(noise_std=-1.0)
    with pytest.raises(ValueError, match="codebook"):
        soft_vq_state(codebook=[[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match="probe"):
        soft_vq_state(probe=(float("nan"), 0.0))


def test_builder_returns_a_slider_figure():
    w = soft_vq_widget()
    names = {c.description for c in w.controls.values()}
    assert {"σ_k", "σ_ε", "z_e x", "z_e y"} <= names
    matplotlib.pyplot.close("all")
