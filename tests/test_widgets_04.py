"""Notebook 04 widgets: state functions (unit-tested), draw functions and builders."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vqlab.clustering import kmeans  # noqa: E402
from vqlab.widgets.ng_fcm import (draw_ng_annealing, draw_ng_fcm, ng_annealing_state, ng_annealing_widget,  # noqa: E402
                           ng_fcm_widget, ng_fcm_state)


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
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_builders_construct():
    import ipywidgets

    assert isinstance(ng_fcm_widget(), ipywidgets.Widget)
    assert isinstance(ng_annealing_widget(), ipywidgets.Widget)
    plt.close("all")
