"""Tests for the notebook 05 widget states (vqlab.widgets) and experiment drivers (vqlab.experiments)."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vqlab import experiments, topology, widgets  # noqa: E402
from vqlab.metrics import sample_quality  # noqa: E402


def test_rips_state_complex_matches_definition():
    s = widgets.rips_state(eps=0.5, cloud="rings", noise=0.05, n=30)
    d = np.sqrt(((s.points[:, None] - s.points[None]) ** 2).sum(-1))
    assert s.points.shape == (30, 2)
    assert np.all(d[s.edges[:, 0], s.edges[:, 1]] <= 0.5)
    assert len(s.edges) == int(np.triu(d <= 0.5, 1).sum())
    for a, b, c in s.triangles:  # every triangle is a clique of the complex, listed once
        assert a < b < c and max(d[a, b], d[a, c], d[b, c]) <= 0.5
    brute = sum(1 for a in range(30) for b in range(a + 1, 30) for c in range(b + 1, 30)
                if max(d[a, b], d[a, c], d[b, c]) <= 0.5)
    assert len(s.triangles) == brute


def test_rips_betti_numbers_limits_and_circle_loop():
    n = 40
    tiny = widgets.rips_state(eps=0.0, cloud="circle", noise=0.0, n=n)
    assert tiny.betti == [n, 0] and len(tiny.edges) == 0
    huge = widgets.rips_state(eps=2.5, cloud="circle", noise=0.0, n=n)
    assert huge.betti == [1, 0] and len(huge.edges) == n * (n - 1) // 2
    mid = widgets.rips_state(eps=0.6, cloud="circle", noise=0.0, n=n)
    assert mid.betti == [1, 1]
    # beta0 never increases with eps
    b0 = [widgets.rips_state(eps=e, cloud="blobs", n=n).betti[0] for e in (0.05, 0.1, 0.3, 0.6, 1.2)]
    assert all(a >= b for a, b in zip(b0, b0[1:]))


@pytest.mark.parametrize("cloud", widgets.RIPS_CLOUDS)
@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_rips_extremes_draw_without_error(cloud, noise):
    import matplotlib.pyplot as plt

    for eps in (0.0, 2.0):
        s = widgets.rips_state(eps=eps, cloud=cloud, noise=noise)
        assert np.isfinite(s.points).all()
        plt.close(widgets.draw_rips(s))


def test_rips_bad_arguments():
    with pytest.raises(ValueError, match="cloud"):
        widgets.rips_state(cloud="torus")
    with pytest.raises(ValueError, match="eps"):
        widgets.rips_state(eps=-1.0)
    with pytest.raises(ValueError, match="n"):
        widgets.rips_state(n=500)


def test_death_ascent_spreads_and_hinge_only_does_not():
    s = widgets.death_ascent(n=30, steps=(0, 10, 40))
    assert s.steps == [0, 10, 40] and len(s.points) == 3
    assert s.death_sum[-1] > 2 * s.death_sum[0]
    for pts, e in zip(s.points, s.edges):
        assert e.shape == (29, 2)
        np.testing.assert_allclose(np.sort(np.linalg.norm(pts[e[:, 0]] - pts[e[:, 1]], axis=1)),
                                   topology.mst_deaths(torch.tensor(pts)).numpy(), atol=1e-9)
    still = widgets.death_ascent(n=30, steps=(0, 10), topological=False)
    np.testing.assert_allclose(still.points[0], still.points[1])  # inside the ball: zero gradient
    import matplotlib.pyplot as plt

    plt.close(widgets.draw_death_ascent(s))
    plt.close(widgets.draw_death_ascent(s, index=1))


def test_latent_model_variants():
    for v in experiments.LATENT_VARIANTS:
        model, hooks = experiments.latent_model(v, latent_dim=3)
        out = model(torch.rand(8, 64))
        assert out.z_e.shape == (8, 3) and out.x_hat.shape == (8, 64)
        names = set()
        for h in hooks:
            names |= set(h(model, None, out, 0))
        assert names == {"AE": set(), "VAE": set(), "AE + L_top": {"disk", "deaths"},
                         "AE + disk only": {"disk"}}[v]
    with pytest.raises(ValueError, match="variant"):
        experiments.latent_model("GAN")


def test_prior_samples_and_sample_quality():
    g = torch.Generator().manual_seed(0)
    ball = experiments.prior_samples("AE + L_top", 500, 2, g)
    assert ball.norm(dim=1).max() <= 1 + 1e-6
    gauss = experiments.prior_samples("AE", 500, 2, g)
    assert gauss.norm(dim=1).max() > 1.5
    uniform = np.eye(10)[np.arange(1000) % 10]  # every class once per 10, fully confident
    q = sample_quality(uniform)
    assert q["confidence"] == 1.0 and abs(q["class_entropy"] - np.log(10)) < 1e-12
    q = sample_quality(np.full((50, 10), 0.1) + np.eye(10)[np.zeros(50, int)] * 0.01)
    assert q["class_entropy"] == 0.0 and q["confidence"] < 0.2
    with pytest.raises(ValueError, match="probs"):
        sample_quality(np.zeros(5))


def test_latent_comparison_small_run():
    from vqlab.data import load_digits

    data = load_digits()

    def predict_proba(imgs):  # a stand-in classifier: brightness decides the class
        s = imgs.sum(1)
        p = np.exp(-((s[:, None] - np.linspace(5, 30, 10)[None]) ** 2) / 20)
        return p / p.sum(1, keepdims=True)

    comp = experiments.latent_comparison(data.x_train[:256], data.x_test[:100], data.y_test[:100], predict_proba,
                                         variants=("AE", "AE + L_top"), seeds=(0, 1), epochs=3, n_samples=200)
    assert len(comp.rows) == 4 and set(comp.latents) == {"AE", "AE + L_top"}
    for r in comp.rows:
        assert 0 <= r["coverage"] <= 1 and r["energy"] >= 0 and 0 <= r["in_ball"] <= 1
        assert np.isfinite(r["recon"])
    summary = comp.summary()
    assert set(summary["AE"]) == {"recon", "in_ball", "coverage", "energy", "confidence", "class_entropy"}
    assert "AE + L_top" in comp.table()
    import matplotlib.pyplot as plt

    plt.close(widgets.draw_latents(comp))
    plt.close(widgets.draw_generated(comp))


def test_builders_return_widgets():
    import ipywidgets

    assert isinstance(widgets.rips_explorer(), ipywidgets.interactive)
    assert isinstance(widgets.death_ascent_stepper(widgets.death_ascent(n=10, steps=(0, 2))),
                      ipywidgets.interactive)
