"""Notebook 03 widgets: the mixture picture, soft assignment regions and the posterior-mean estimator."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vqlab.posteriors import squared_distances  # noqa: E402
from vqlab.widgets.soft_vq import (MIXTURE_WIDTHS, SOFT_VQ_CODEBOOK, draw_mixture, draw_soft_vq,  # noqa: E402
                                   mixture_state, soft_vq_state, soft_vq_widget)


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
    assert {"σ_k", "σ_ξ", "z_e x", "z_e y"} <= names
    matplotlib.pyplot.close("all")


def test_mixture_density_is_normalised_and_the_posterior_is_bayes_rule():
    s = mixture_state(resolution=241, arrows=5, extent=4.0)
    k = len(SOFT_VQ_CODEBOOK)
    assert s.density.shape == (241, 241) and s.posterior.shape == (241, 241, k) and s.means.shape == (25, 2)
    cell = (s.gx[0, 1] - s.gx[0, 0]) ** 2
    assert abs(s.density.sum() * cell - 1.0) < 0.01            # p(z'_e) integrates to one (eqs. 4-5)
    assert np.allclose(s.posterior.sum(-1), 1.0)
    # Bayes' rule by hand at one grid point: r(k) N(z; e_k, sigma_k^2 I) / p(z), D = 2
    i, j = 100, 130
    z = np.array([s.gx[i, j], s.gy[i, j]])
    sig = np.array(MIXTURE_WIDTHS)
    comp = np.exp(-((z - s.codebook) ** 2).sum(1) / (2 * sig**2)) / (2 * np.pi * sig**2) / k
    assert np.isclose(s.density[i, j], comp.sum()) and np.allclose(s.posterior[i, j], comp / comp.sum())
    # the arrows end at the posterior means, inside the codebook's bounding box
    lo, hi = s.codebook.min(0), s.codebook.max(0)
    assert ((s.means >= lo - 1e-9) & (s.means <= hi + 1e-9)).all()


def test_mixture_with_equal_narrow_widths_is_hard_vq():
    s = mixture_state(widths=(0.01,) * len(SOFT_VQ_CODEBOOK), resolution=30, arrows=7)
    dist = squared_distances(torch.tensor(s.starts), torch.tensor(s.codebook))
    inside = (dist.sort(1).values[:, 1] - dist.min(1).values > 0.05).numpy()   # not on a cell boundary
    assert inside.sum() >= 40
    nearest = dist.argmin(1).numpy()
    assert np.allclose(s.means[inside], s.codebook[nearest][inside], atol=1e-9)
    grid = np.stack([s.gx.ravel(), s.gy.ravel()], 1)
    nearest_grid = squared_distances(torch.tensor(grid), torch.tensor(s.codebook)).argmin(1).numpy()
    assert np.array_equal(s.posterior.reshape(-1, len(SOFT_VQ_CODEBOOK)).argmax(1), nearest_grid)


def test_mixture_bad_arguments_and_drawing():
    with pytest.raises(ValueError, match="widths"):
        mixture_state(widths=(0.3, 0.0, 0.3, 0.3, 0.3, 0.3))
    with pytest.raises(ValueError, match="widths"):
        mixture_state(widths=(0.3,))
    with pytest.raises(ValueError, match="codebook"):
        mixture_state(codebook=[[0.0, 1.0, 2.0]], widths=(0.3,))
    with pytest.raises(ValueError, match="resolution"):
        mixture_state(resolution=1)
    fig = draw_mixture(mixture_state(resolution=20, arrows=4))
    assert len(fig.axes) == 3
    matplotlib.pyplot.close(fig)
