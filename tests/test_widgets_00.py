"""Notebook 00 widgets: KL and entropy, the posterior over codes and I(X;Z), an exact ELBO, straight-through."""
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vqlab.widgets import prereq as P  # noqa: E402


def test_divergence_identities():
    s = P.divergence_state(shift=1.5, width=0.7)
    assert np.isclose(s.p.sum(), 1) and np.isclose(s.r.sum(), 1) and (s.r > 0).all()
    assert np.isclose(s.cross_pr, s.entropy_p + s.kl_pr) and np.isclose(s.cross_rp, s.entropy_r + s.kl_rp)
    assert np.isclose(s.terms_pr.sum(), s.kl_pr)
    ref = float((torch.tensor(s.p) * (torch.tensor(s.p) / torch.tensor(s.r)).log()).sum())
    assert np.isclose(s.kl_pr, ref)
    assert s.kl_pr > 0 and s.kl_rp > 0 and not np.isclose(s.kl_pr, s.kl_rp)  # not symmetric


def test_divergence_is_zero_for_equal_distributions_and_grows_with_the_shift():
    same = P.divergence_state(shift=0.0, width=1.0)
    assert abs(same.kl_pr) < 1e-12 and abs(same.kl_rp) < 1e-12
    kls = [P.divergence_state(shift=d, width=1.0).kl_pr for d in (0.5, 1.0, 2.0, 4.0)]
    assert all(b > a for a, b in zip(kls, kls[1:]))


def test_information_terms():
    s = P.information_state(tau=0.05, num_codes=4, num_points=8)
    assert s.probs.shape == (8, 4) and np.allclose(s.probs.sum(1), 1)
    t = s.terms
    assert np.isclose(t["I(X;Z)"], t["H(Z)"] - t["H(Z|X)"])
    assert 0 < t["H(Z|X)"] < t["H(Z)"] <= math.log(4) + 1e-12
    hard = P.information_state(tau=1e-4).terms   # two inputs per code, one-hot posterior
    assert abs(hard["H(Z|X)"]) < 1e-9 and np.isclose(hard["I(X;Z)"], math.log(4))
    flat = P.information_state(tau=1e3).terms
    assert flat["I(X;Z)"] < 1e-4
    mi = np.array(s.curve["I(X;Z)"])
    assert len(mi) == len(P.INFORMATION_LOG10_TAUS) and (np.diff(mi) <= 1e-12).all()


def test_one_code_carries_no_information():
    t = P.information_state(tau=0.01, num_codes=1).terms
    assert abs(t["I(X;Z)"]) < 1e-12 and abs(t["H(Z)"]) < 1e-12


def test_elbo_is_log_px_minus_the_posterior_kl():
    s = P.elbo_state(mean=0.3, std=0.4, x=1.5)
    assert np.isclose(s.elbo, s.recon - s.kl_prior)
    assert np.isclose(s.gap, s.kl_posterior) and s.gap > 0     # two separate computations agree
    at_posterior = P.elbo_state(mean=s.post_mean, std=math.sqrt(s.post_var), x=1.5)
    assert abs(at_posterior.gap) < 1e-12 and np.isclose(at_posterior.elbo, at_posterior.log_px)


def test_elbo_terms_match_monte_carlo():
    mean, std, x, a, s = -0.4, 0.6, 0.8, 1.3, 0.7
    st = P.elbo_state(mean, std, x, a=a, s=s)
    g = torch.Generator().manual_seed(0)
    z = mean + std * torch.randn(400_000, generator=g, dtype=torch.float64)
    q, prior, lik = (torch.distributions.Normal(mean, std), torch.distributions.Normal(0.0, 1.0),
                     torch.distributions.Normal(a * z, s))
    recon = lik.log_prob(torch.tensor(x, dtype=torch.float64)).mean()
    kl = (q.log_prob(z) - prior.log_prob(z)).mean()
    assert abs(float(recon) - st.recon) < 0.01 and abs(float(kl) - st.kl_prior) < 0.01
    evidence = torch.distributions.Normal(0.0, math.sqrt(a * a + s * s)).log_prob(torch.tensor(x))
    assert np.isclose(st.log_px, float(evidence))


def test_a_decoder_that_ignores_z_has_the_prior_as_posterior():
    s = P.elbo_state(mean=0.0, std=1.0, x=2.0, a=0.0)
    assert (s.post_mean, s.post_var) == (0.0, 1.0) and abs(s.gap) < 1e-12


def test_straight_through_moves_the_encoder_and_the_true_gradient_does_not():
    s = P.straight_through_state(z0=-1.2, target=1.2, lr=0.2, steps=20)
    assert (s.path_true == -1.2).all()
    assert s.path_st[-1] > 0.5 and abs(s.path_st[-1] - 1.0) < 0.5   # hops around the cell border at 1.0
    z_q = s.codebook[np.abs(s.path_st[:-1, None] - s.codebook).argmin(1)]
    assert np.allclose(s.grads_st, 2 * (z_q - 1.2))
    assert np.allclose(np.diff(s.path_st), -0.2 * s.grads_st)


@pytest.mark.parametrize("make,draw", [(P.divergence_state, P.draw_divergence),
                                       (P.information_state, P.draw_information),
                                       (P.elbo_state, P.draw_elbo),
                                       (P.straight_through_state, P.draw_straight_through)])
def test_default_states_draw(make, draw):
    fig = draw(make())
    assert len([ax for ax in fig.axes if ax.get_label() != "<colorbar>"]) == 2
    matplotlib.pyplot.close(fig)


def test_extreme_sliders_are_finite():
    for s in (P.divergence_state(shift=5.0, width=0.1), P.divergence_state(shift=-2.0, width=10.0)):
        assert np.isfinite([s.kl_pr, s.kl_rp, s.cross_pr]).all()
    for tau in (1e-4, 10.0):
        assert np.isfinite(list(P.information_state(tau=tau, num_codes=8).terms.values())).all()
    e = P.elbo_state(mean=3.0, std=10 ** -1.5, x=-3.0)
    assert np.isfinite([e.elbo, e.gap, e.log_px]).all() and np.isfinite(e.q).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="width"):
        P.divergence_state(width=0.0)
    with pytest.raises(ValueError, match="num_codes"):
        P.divergence_state(num_codes=1)
    with pytest.raises(ValueError, match="tau"):
        P.information_state(tau=0.0)
    with pytest.raises(ValueError, match="std"):
        P.elbo_state(std=-1.0)
    with pytest.raises(ValueError, match="s"):
        P.elbo_state(s=0.0)
    with pytest.raises(ValueError, match="lr"):
        P.straight_through_state(lr=0.0)
    with pytest.raises(ValueError, match="codebook"):
        P.straight_through_state(codebook=[[0.0, 1.0]])


def test_builders_return_slider_figures():
    names = [{c.description for c in w.controls.values()} for w in
             (P.divergence_widget(), P.information_widget(), P.elbo_widget(), P.straight_through_widget())]
    assert names == [{"shift of r", "width of r"}, {"τ", "K"}, {"mean of q", "std of q", "observed x"},
                     {"start z", "target t", "step size"}]
    matplotlib.pyplot.close("all")
