"""Notebook 04 widgets: state functions (unit-tested), draw functions and builders."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vqlab.clustering import kmeans  # noqa: E402
from vqlab.widgets._ui import SliderFigure  # noqa: E402
from vqlab.widgets.ng_fcm import (codebook_pull_state, codebook_pull_widget, draw_codebook_pull,  # noqa: E402
                                  draw_ng_annealing, draw_ng_fcm, ng_annealing_state, ng_annealing_widget,
                                  ng_fcm_state, ng_fcm_widget)


def test_ng_fcm_state_posteriors_and_ranks():
    s = ng_fcm_state(lam=0.8, m=1.7, num_codes=6)
    assert torch.equal(s.ranks.sort().values, torch.arange(6))
    for q in (s.ng_probs, s.fcm_probs):
        assert torch.isclose(q.sum(), torch.tensor(1.0)) and (q >= 0).all()
        assert q.argmax() == s.ranks.argmin()  # the nearest code gets the most mass
    assert s.ng_prototypes.shape == s.fcm_prototypes.shape == (6, 2)


def test_sharp_limits_settle_like_kmeans():
    s = ng_fcm_state(lam=1e-3, m=1.01, num_codes=6)
    km = kmeans(s.points, s.codebook, 40).prototypes
    assert torch.allclose(s.ng_prototypes, km, atol=1e-4)
    assert torch.allclose(s.fcm_prototypes, km, atol=1e-3)


def test_larger_lambda_and_m_give_softer_posteriors():
    def entropy(q):
        return -(q * q.clamp_min(1e-12).log()).sum().item()

    ng = [entropy(ng_fcm_state(lam=lam, num_codes=8, iterations=0).ng_probs) for lam in (0.05, 0.5, 2.0, 20.0)]
    fcm = [entropy(ng_fcm_state(m=m, num_codes=8, iterations=0).fcm_probs) for m in (1.05, 1.5, 2.5, 6.0)]
    for h in (ng, fcm):
        assert all(a < b for a, b in zip(h[:-1], h[1:]))


@pytest.mark.parametrize("lam, m", [(0.01, 1.02), (10 ** 1.5, 6.0), (1.0, 1.02), (0.01, 6.0)])
def test_extreme_slider_values_stay_finite(lam, m):
    s = ng_fcm_state(lam=lam, m=m, num_codes=30, probe=(4.0, -4.0))
    for t in (s.ng_probs, s.fcm_probs, s.ng_prototypes, s.fcm_prototypes):
        assert torch.isfinite(t).all()
    plt.close(draw_ng_fcm(s))


def test_probe_on_a_prototype_is_finite():
    s0 = ng_fcm_state(num_codes=4)
    p = tuple(s0.codebook[2].tolist())
    s = ng_fcm_state(num_codes=4, probe=p)
    assert torch.isfinite(s.fcm_probs).all() and s.fcm_probs.argmax() == 2


def test_annealing_state_rescues_dead_units():
    first, last = ng_annealing_state(0), ng_annealing_state(40)
    assert torch.equal(first.prototypes, first.trail[0]) and first.trail.shape[0] == 1
    assert last.trail.shape == (41, 10, 2)
    assert first.dead > 0 and last.dead == 0 and last.kmeans_dead > 0
    lams = [ng_annealing_state(t).lam for t in range(0, 41, 5)]
    assert all(a >= b for a, b in zip(lams[:-1], lams[1:]))
    assert last.distortion[-1] < last.distortion[0]
    plt.close(draw_ng_annealing(ng_annealing_state(12)))


@pytest.mark.parametrize("call, match", [
    (lambda: ng_fcm_state(lam=0.0), "lam"),
    (lambda: ng_fcm_state(m=1.0), "m"),
    (lambda: ng_fcm_state(num_codes=0), "num_codes"),
    (lambda: ng_annealing_state(41, iterations=40), "step"),
    (lambda: ng_annealing_state(0, lam_final=0.0), "lam_final"),
    (lambda: codebook_pull_state(0.0), "scale"),
    (lambda: codebook_pull_state(1.0, lam=-1.0), "lam"),
    (lambda: codebook_pull_state(1.0, m=1.0), "m"),
    (lambda: codebook_pull_state(1.0, num_codes=0), "num_codes"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_builders_are_slider_figures():
    """Every widget of notebook 04 is a plain slider figure (controls above a saved PNG), as in the other
    notebooks: a wrapper box around one (the annealing widget's Play button used to be one) is shown as its
    text form until the notebook is run (issue 30)."""
    for build in (ng_fcm_widget, ng_annealing_widget, codebook_pull_widget):
        assert type(build()) is SliderFigure, build.__name__
    plt.close("all")


def test_codebook_pull_tiny_start_clumps_fuzzy_cmeans_but_not_neural_gas():
    tiny, wide = codebook_pull_state(1 / 16), codebook_pull_state(3.0)
    k = len(tiny.codebook)
    assert tiny.codebook.abs().max() <= 1 / 16 and wide.codebook.abs().max() <= 3.0
    # neural gas: the nearest code's mass is h(0) / C_lambda whatever the start; every code is pulled
    exact = (1 - torch.exp(torch.tensor(-1 / 3))) / (1 - torch.exp(torch.tensor(-k / 3)))
    for s in (tiny, wide):
        assert abs(s.top_mass["neural_gas"] - exact.item()) < 1e-5 and s.pulled["neural_gas"] >= k - 1
        assert s.top_mass["hard"] == 1.0 and s.pulled["hard"] < k     # codes nearest to no point get no pull
    # fuzzy c-means: nearly uniform from the tiny start, so every target is near the data mean (a clump)
    assert tiny.top_mass["fcm"] < 2 / k < wide.top_mass["fcm"]
    assert tiny.target_spread["fcm"] < 0.25 * tiny.target_spread["neural_gas"]
    assert wide.target_spread["fcm"] > 4 * tiny.target_spread["fcm"]
    # a target is the posterior-weighted mean: the mean of the points for a uniform posterior
    flat = codebook_pull_state(1e-6, m=50.0)
    assert torch.allclose(flat.targets["fcm"], flat.points.mean(0).expand_as(flat.codebook), atol=1e-3)
    plt.close(draw_codebook_pull(tiny))


def test_committed_notebook_shows_a_saved_picture_for_every_widget():
    """Before the notebook is run, JupyterLab and the book show each widget from its saved state: every widget
    output must be a slider figure whose Image widget holds a PNG (issue 30)."""
    import json
    import sys

    from committed import REPO, committed_notebooks
    sys.path.insert(0, str(REPO / "book"))
    import static_widgets

    path = committed_notebooks() / "04_neural_gas_fuzzy_cmeans.ipynb"
    nb = json.loads(path.read_text())
    state = nb["metadata"]["widgets"][static_widgets.WIDGET_STATE]["state"]
    views = [o["data"][static_widgets.WIDGET_VIEW]["model_id"] for c in nb["cells"] if c["cell_type"] == "code"
             for o in c.get("outputs", []) if static_widgets.WIDGET_VIEW in o.get("data", {})]
    assert len(views) == 3
    for model_id in views:
        assert "vqlab-slider-figure" in state[model_id]["state"]["_dom_classes"], model_id
        shown = static_widgets._saved_outputs(model_id, state)
        assert [list(o["data"]) for o in shown] == [["image/png"]], model_id
