# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Prerequisites: information, the VAE and its ELBO, straight-through
#
# The later notebooks use four ideas without stopping to explain them. This one explains them, each first
# as a picture you can move, then as maths, then checked in numbers.
#
# **What you will learn**
#
# 1. Entropy, cross-entropy and the KL divergence of distributions over codes, and why the KL divergence is
#    not symmetric.
# 2. The mutual information $I(X;Z)$ between an input and the code an encoder assigns to it, and why a
#    deterministic encoder has $I(X;Z) = H(Z)$ (used in notebooks 02 and 06).
# 3. The variational autoencoder (VAE) and its evidence lower bound (ELBO): $\log p(x) = \mathrm{ELBO} +
#    \mathrm{KL}(q_\theta(z\mid x)\,\Vert\,p(z\mid x))$, on a model where every term is exact (used in 02, 03, 05).
# 4. The straight-through estimator: how a quantizer with no useful gradient still trains an encoder
#    (used from notebook 01 on).
#
# The symbols are the course's ([notation](../book/notation.md)); information is in nats (natural
# logarithms). Everything runs offline on a CPU in a few seconds.
#
# **Paper ↔ this notebook.** The VAE is Kingma & Welling (2014, [arXiv:1312.6114](https://arxiv.org/abs/1312.6114));
# we cite its sections (§2.2 the bound, §2.4 the reparameterisation, Appendix B the Gaussian KL). The
# neural-gas thesis (§3.4) covers the same ground; it has no public copy. The straight-through estimator is
# from Bengio, Léonard & Courville (2013, [arXiv:1308.3432](https://arxiv.org/abs/1308.3432)) and is how the
# VQ-VAE (van den Oord et al. 2017, [arXiv:1711.00937](https://arxiv.org/abs/1711.00937), §3.2) trains its
# encoder. Kingma & Welling name the encoder's parameters $\phi$ and the decoder's $\theta$; the course
# uses the thesis's order (encoder $\theta$, decoder $\phi$):
#
# | paper symbol | course symbol | meaning |
# |---|---|---|
# | $q_\phi(\mathbf z\mid\mathbf x)$ (recognition model) | $q_\theta(z\mid x)$ | encoder distribution |
# | $p_\theta(\mathbf x\mid\mathbf z)$ (generative model) | $p_\phi(x\mid z)$ | decoder |
# | $p_\theta(\mathbf z)$ | $p(z)$ | prior of a VAE |
# | $\phi$ (variational parameters) | $\theta$ | encoder parameters |
# | $\theta$ (generative parameters) | $\phi$ | decoder parameters |
# | $\mathcal L(\theta, \phi; \mathbf x^{(i)})$ | $\mathrm{ELBO}$ | evidence lower bound |
# | $\boldsymbol\epsilon$ | $\xi$ | standard normal noise |
# | $J$ (latent dimension) | $D$ | code dimension; the latent dimension of the VAE |
#
# | paper symbol | course symbol | meaning |
# |---|---|---|
# | $z_e(x)$ (VQ-VAE) | $z_e(x)$ | encoder output |
# | $e_k$ (VQ-VAE) | $e_k$ | codeword |
# | $z_q(x)$ (VQ-VAE) | $z_q(x)$ | quantized latent |
# | $\mathrm{sg}[\cdot]$ (VQ-VAE) | $\mathrm{sg}$ | stop-gradient |

# %%
# This course's package `vqlab`: where this Python lacks it (Colab, a fresh environment), the course's repository is
# cloned beside this notebook and installed from there, with the measurements its notebooks load (results/); where
# vqlab is installed, this cell does nothing.
import importlib.metadata, importlib.util, pathlib, subprocess, sys

COURSE = "https://github.com/vqlab-course/vqlab"
if importlib.util.find_spec("vqlab") is None:
    clone = pathlib.Path("vqlab-course").resolve()
    if not clone.exists():
        subprocess.run(["git", "clone", "--depth", "1", COURSE, str(clone)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", str(clone)], check=True)
    sys.path.insert(0, str(clone))  # this kernel started before the install: import from the clone
    importlib.invalidate_caches()
other = set(importlib.metadata.packages_distributions().get("vqlab", [])) - {"vqlab-course"}
if other:  # PyPI's `vqlab` is a different project with the same import name
    raise ImportError(f"`import vqlab` finds {', '.join(sorted(other))}, not this course's package: run "
                      f"pip uninstall -y {' '.join(sorted(other))}, restart the kernel and run this cell again")

# %%
import math

import matplotlib.pyplot as plt
import torch

import vqlab
from vqlab import losses
from vqlab.data import load_digits
from vqlab.models import VAE
from vqlab.nets import MLPDecoder, MLPEncoder
from vqlab.widgets.prereq import (divergence_state, divergence_widget, draw_divergence, draw_elbo,
                                  draw_information, draw_straight_through, elbo_state, elbo_widget,
                                  gaussian_kl, information_state, information_widget, linear_gaussian_posterior,
                                  straight_through_state, straight_through_widget)

vqlab.seed_everything(0)
torch.set_printoptions(precision=4)

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 00_prerequisites
# init_cell: true
# check_all_cell: false
# export_cell: false
# solutions_pdf: false
# run_tests: false
# generate: true
# tests:
#   files: false

# %% [markdown]
# ## 1. Entropy, cross-entropy and the KL divergence
#
# **The picture first.** Two distributions over $K = 8$ codes: $p$ (blue) and $r$ (orange). Move $r$ away
# from $p$ and make it narrower or wider. On the right, each bar is a *cross-entropy*: the grey part is the
# entropy of the first distribution, the red part the KL divergence. Watch three things: the red parts are 0
# only when the two distributions coincide; they are not equal to each other; and a narrow $r$ under a wide
# $p$ costs far more than the other way round.

# %%
draw_divergence(divergence_state())
plt.show()

# %% tags=["nbval-ignore-output"]
divergence_widget()

# %% [markdown]
# **The maths.** For distributions $p$ and $r$ over the codes $k = 1, \dots, K$:
#
# $$H(p) = -\sum_k p_k \log p_k, \qquad H(p, r) = -\sum_k p_k \log r_k, \qquad
#   \mathrm{KL}(p\,\Vert\,r) = \sum_k p_k \log\frac{p_k}{r_k} = H(p, r) - H(p).$$
#
# The **entropy** $H(p)$ is the average number of nats needed to name a code drawn from $p$ with the best
# code for $p$; it lies between 0 (one code certain) and $\log K$ (all equally likely). The
# **cross-entropy** $H(p, r)$ is the average cost when the code was designed for $r$ instead, and the
# **KL divergence** is the extra cost: $\mathrm{KL}(p\,\Vert\,r) \ge 0$, with equality only for $p = r$
# (Gibbs' inequality, from $\log t \le t - 1$). It is not a distance: $\mathrm{KL}(p\,\Vert\,r) \ne
# \mathrm{KL}(r\,\Vert\,p)$ in general. $\mathrm{KL}(p\,\Vert\,r)$ is an average under $p$, so it is large
# where $p$ has mass that $r$ lacks. A VAE's loss holds a KL term in the order $\mathrm{KL}(q\,\Vert\,\text{prior})$
# (§3); notebook 02's bounds are all KL divergences.
#
# **Checked** with `vqlab.losses` on the two distributions of the figure:

# %%
div = divergence_state()
p, r = torch.tensor(div.p), torch.tensor(div.r)
print(f"H(p) = {losses.entropy(p):.4f}, H(r) = {losses.entropy(r):.4f} nats (log K = {math.log(8):.4f})")
print(f"KL(p || r) = {losses.kl_divergence(p, r):.4f}, KL(r || p) = {losses.kl_divergence(r, p):.4f}")
cross_minus_entropy = losses.cross_entropy(p[None], r) - losses.entropy(p)
print("H(p, r) - H(p) equals KL(p || r):", bool(torch.isclose(cross_minus_entropy, losses.kl_divergence(p, r))))
print("KL(p || p) = 0:", float(losses.kl_divergence(p, p)) == 0.0)
assert torch.isclose(cross_minus_entropy, losses.kl_divergence(p, r))
assert losses.kl_divergence(r, p) > losses.kl_divergence(p, r) > 0

# %% [markdown]
# ## 2. Mutual information between an input and its code
#
# **The picture first.** Eight inputs $x_1, \dots, x_8$ evenly spaced on $[0, 1]$, $K = 4$ codewords at the
# centres of four equal cells, and an encoder that gives every input a *posterior over codes*
# $q(k\mid x) \propto \exp(-(x - e_k)^2/\tau)$ at a temperature $\tau$ (notebook 02's EM posterior). The
# heat map shows $q(k\mid x)$, one column per input. At a small $\tau$ each column is one-hot: the code
# tells you which pair of inputs you have. At a large $\tau$ every column is the same: the code tells you
# nothing about the input. The right panel measures that with three numbers; move $\tau$ and $K$.

# %%
draw_information(information_state())
plt.show()

# %% tags=["nbval-ignore-output"]
information_widget()

# %% [markdown]
# **The maths.** The inputs come with $p(x)$ (here $1/N$ each), the encoder with $q(k\mid x)$; together a
# joint distribution $p(x)\,q(k\mid x)$ of the input $X$ and its code $Z$. The code's marginal is the
# **code usage** $\bar q_k = \sum_x p(x)\, q(k\mid x)$. Then
#
# $$H(Z) = H(\bar q), \qquad H(Z\mid X) = \sum_x p(x)\, H\big(q(\cdot\mid x)\big), \qquad
#   I(X;Z) = H(Z) - H(Z\mid X) = \sum_x p(x)\,\mathrm{KL}\big(q(\cdot\mid x)\,\Vert\,\bar q\big).$$
#
# $H(Z\mid X)$ is what the code still leaves uncertain once the input is known (the encoder's own
# randomness); the **mutual information** $I(X;Z)$ is what the code tells about the input. It is a KL
# divergence, so $I(X;Z) \ge 0$, and $I(X;Z) \le H(Z) \le \log K$. A **deterministic** encoder (hard VQ,
# one-hot $q(k\mid x)$) has $H(Z\mid X) = 0$, so $I(X;Z) = H(Z)$: all it can tell is which code was used,
# and that is worth the entropy of the usage. Notebook 02 trades $I(X;Z)$ against the distortion (the
# information bottleneck); notebook 06 watches $H(\bar q)$ collapse.
#
# **Checked**: the three expressions of $I(X;Z)$ agree, and the bounds hold, at the figure's temperature.

# %%
info = information_state()
q = torch.tensor(info.probs)                                  # q(k|x) [N, K], p(x) = 1/N
joint = q / len(q)                                            # p(x) q(k|x)
usage = losses.marginal(q)
i_joint = losses.mutual_information(joint)                    # KL(joint || p(x) q-bar)
i_difference = losses.entropy(usage) - losses.conditional_entropy(q)
i_mean_kl = losses.kl_divergence(q, usage.expand_as(q)).mean()
print(f"I(X;Z) three ways: {i_joint:.4f}, {i_difference:.4f}, {i_mean_kl:.4f} nats")
print("0 <= I(X;Z) <= H(Z) <= log K:", bool(0 <= i_joint <= losses.entropy(usage) <= math.log(4) + 1e-12))
assert torch.allclose(torch.stack([i_difference, i_mean_kl]), i_joint)

# %% [raw]
# # BEGIN QUESTION
# name: predicted_mi
# points: 1

# %% [markdown]
# **Exercise 1 (predict, then verify · ★★).** Another deterministic encoder of the eight inputs sends
# $x_1, \dots, x_4$ to code 1, $x_5, x_6$ to code 2, $x_7$ to code 3 and $x_8$ to code 4. **Before you run
# the next cell**, predict its mutual information $I(X;Z)$ in nats and store it in `predicted_mi` (a
# number; `math.log` is available). The cell after the question computes it.

# %% [raw]
# # BEGIN SOLUTION

# %%
predicted_mi = -(0.5 * math.log(0.5) + 0.25 * math.log(0.25) + 2 * 0.125 * math.log(0.125))  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_prediction_is_a_number_in_the_possible_range(predicted_mi, math):
    assert isinstance(predicted_mi, (int, float)), "store a number in predicted_mi"
    assert 0 <= predicted_mi <= math.log(4) + 1e-9, \
        "I(X;Z) lies between 0 and log K = 1.386 nats (natural logarithms: an answer in bits is too large)"
test_prediction_is_a_number_in_the_possible_range(predicted_mi, math)

# %%
def test_prediction_uses_that_the_encoder_is_deterministic(predicted_mi, math):
    assert abs(predicted_mi - math.log(4)) > 1e-3, \
        "the codes are not used equally here, so I(X;Z) is below log K"
    assert abs(predicted_mi - 1.2130) < 0.01, \
        ("a deterministic encoder has H(Z|X) = 0, so I(X;Z) = H(Z): the entropy of the code usage "
         "(1/2, 1/4, 1/8, 1/8)")
test_prediction_uses_that_the_encoder_is_deterministic(predicted_mi, math)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_prediction_exact(predicted_mi, math):
    assert abs(predicted_mi - 1.75 * math.log(2)) < 1e-3
test_prediction_exact(predicted_mi, math)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Verify.** The encoder as a table $q(k\mid x)$, its $I(X;Z)$ from the joint distribution, and your
# prediction:

# %%
cells = torch.tensor([0, 0, 0, 0, 1, 1, 2, 3])
q_exercise = torch.nn.functional.one_hot(cells, 4).double()
mi_exercise = losses.mutual_information(q_exercise / 8)
print(f"I(X;Z) = {mi_exercise:.4f} nats = H(Z) = {losses.entropy(losses.marginal(q_exercise)):.4f} nats;  "
      f"your prediction: {predicted_mi}")
assert torch.isclose(mi_exercise, losses.entropy(losses.marginal(q_exercise)))

# %% [markdown]
# ## 3. The VAE and its evidence lower bound
#
# **The picture first.** A one-dimensional VAE small enough to solve exactly: a latent $z$ with the prior
# $p(z) = \mathcal N(0, 1)$, a decoder that says $x$ is $a z$ plus Gaussian noise of standard deviation
# $s$, $p_\phi(x\mid z) = \mathcal N(x;\ a z,\ s^2)$ (here $a = 1$, $s = 0.5$), and one observed $x$. The
# black curve is the true posterior $p(z\mid x)$, the blue one an encoder $q_\theta(z\mid x)$ whose mean and
# standard deviation you set. On the right: the two terms of the ELBO, the ELBO, and $\log p(x)$ as a line.
# Move the encoder onto the posterior and the red gap closes: the ELBO touches $\log p(x)$ exactly there.

# %%
draw_elbo(elbo_state(mean=0.5, std=0.3))
plt.show()

# %% tags=["nbval-ignore-output"]
elbo_widget()

# %% [markdown]
# **The maths** (Kingma & Welling 2014, §2.2). A VAE has a prior $p(z) = \mathcal N(0, \mathbf I)$ over a
# latent $z \in \mathbb R^D$, a decoder $p_\phi(x\mid z)$ and an encoder $q_\theta(z\mid x) =
# \mathcal N\big(\mu_\theta(x), \operatorname{diag}\sigma_\theta(x)^2\big)$ that stands in for the
# intractable posterior $p(z\mid x) = p(z)\,p_\phi(x\mid z)/p(x)$. For *any* encoder,
#
# $$\log p(x) = \mathrm{ELBO}(x) + \mathrm{KL}\big(q_\theta(z\mid x)\,\Vert\,p(z\mid x)\big), \qquad
#   \mathrm{ELBO}(x) = \mathbb E_{q_\theta(z\mid x)}\big[\log p_\phi(x\mid z)\big]
#   - \mathrm{KL}\big(q_\theta(z\mid x)\,\Vert\,p(z)\big).$$
#
# (Write $\log p(x) = \mathbb E_q[\log p(x)]$, use $p(x) = p(z)p_\phi(x\mid z)/p(z\mid x)$ inside the
# expectation, and add and subtract $\log q_\theta(z\mid x)$.) The KL term is $\ge 0$, so the ELBO is a
# lower bound of the evidence $\log p(x)$, tight exactly when the encoder is the posterior. Training
# maximises the ELBO over $\theta$ and $\phi$ at once: a better fit of the data and a better encoder. Its
# first term is a **reconstruction** term; the second, the **rate**, keeps the encoder close to the prior.
# For the Gaussian encoder the rate has a closed form (Appendix B of the paper):
#
# $$\mathrm{KL}\big(q_\theta(z\mid x)\,\Vert\,\mathcal N(0, \mathbf I)\big)
#   = \tfrac12\sum_{j=1}^{D}\big(\mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1\big),$$
#
# and the expectation is estimated by sampling $z = \mu_\theta(x) + \sigma_\theta(x)\odot\xi$ with
# $\xi\sim\mathcal N(0, \mathbf I)$ (the *reparameterisation*, §2.4), so gradients reach $\mu$ and $\sigma$.
# A weight $w_{\mathrm{KL}}$ on the rate gives the $\beta$-VAE (notebooks 03 and 05). The VQ-VAE is the same
# picture with a *discrete* latent: a one-hot posterior $q(k\mid x)$ and a uniform prior $r(k) = 1/K$, whose
# KL divergence is the constant $\log K$ (VQ-VAE §3.1; notebook 02 derives it again).
#
# In the one-dimensional model everything is exact: $p(x) = \mathcal N(0, a^2 + s^2)$ and the posterior is
# $\mathcal N\big(a x/(a^2 + s^2),\ s^2/(a^2 + s^2)\big)$ (Bayes' rule for Gaussians). **Checked**: the gap
# $\log p(x) - \mathrm{ELBO}$ equals $\mathrm{KL}(q\,\Vert\,p(z\mid x))$, computed separately, for a grid of
# encoders; the ELBO is largest at the posterior, where it equals $\log p(x)$.

# %%
x_obs, a, s = 1.5, 1.0, 0.5
post_mean, post_var = linear_gaussian_posterior(x_obs, a, s)
gaps, best = [], None
for mean in torch.linspace(-1.0, 2.0, 16, dtype=torch.float64).tolist():
    for std in (0.2, 0.4, math.sqrt(post_var), 0.8, 1.2):
        st = elbo_state(mean, std, x_obs, a=a, s=s)
        gaps.append(st.gap - gaussian_kl(mean, std ** 2, post_mean, post_var))
        if best is None or st.elbo > best.elbo:
            best = st
print(f"posterior N({post_mean:.2f}, {post_var:.2f}); log p(x) = {best.log_px:.4f}")
print(f"gap = KL(q || posterior) for all {len(gaps)} encoders:", max(abs(g) for g in gaps) < 1e-12)
print(f"best encoder of the grid: N({best.mean:.2f}, {best.std ** 2:.2f}), ELBO = {best.elbo:.4f}")
assert max(abs(g) for g in gaps) < 1e-12 and abs(best.elbo - best.log_px) < 1e-12

# %% [markdown]
# `vqlab.models.VAE` computes the rate with this closed form, per input element and weighted by
# $w_{\mathrm{KL}}$ (`kl_weight`), beside its reconstruction term `recon` (the MSE: a Gaussian decoder's
# $-\log p_\phi(x\mid z)$ up to scale and constants). Checked on a batch of digits:

# %%
digits = load_digits()
vae = VAE(MLPEncoder(64, 2 * 2, (32,)), MLPDecoder(2, 64, (32,)), latent_dim=2, kl_weight=0.5).eval()
out = vae(digits.x_train[:128])
mu, log_var = vae.encode_stats(digits.x_train[:128])
closed_form = 0.5 * (mu ** 2 + log_var.exp() - log_var - 1).sum(1).mean()
print("losses:", sorted(out.losses))
print("kl = w_KL * closed-form KL / 64 pixels:", bool(torch.isclose(out.losses["kl"], 0.5 * closed_form / 64)))
assert torch.isclose(out.losses["kl"], 0.5 * closed_form / 64)

# %% [markdown]
# ## 4. The straight-through estimator
#
# **The picture first.** A quantizer maps an encoder output $z$ to its nearest codeword, here one of
# $-1.5, -0.5, 0.5, 1.5$: a staircase (black). Suppose the decoder wants the value $t$ (green), so the loss
# is $(z_q(z) - t)^2$ (red). It is flat on every cell: its true gradient with respect to $z$ is zero
# wherever it exists, so gradient descent never moves $z$ (grey, right). The **straight-through
# estimator** pretends the staircase were the identity in the backward pass, so $z$ receives
# $2(z_q - t)$: the gradient of the loss *at the codeword*. It walks towards the target (blue) — and then
# keeps hopping across the cell border nearest to it, since no codeword sits at $t$. Move the start, the
# target and the step size.

# %%
draw_straight_through(straight_through_state())
plt.show()

# %% tags=["nbval-ignore-output"]
straight_through_widget()

# %% [markdown]
# **The maths.** With $k^*(x)$ the nearest code, the VQ-VAE feeds its decoder
#
# $$z_q(x) = z_e(x) + \mathrm{sg}\big[e_{k^*(x)} - z_e(x)\big],$$
#
# where the stop-gradient $\mathrm{sg}$ is the identity in the forward pass and a constant in the backward
# pass. Forward, $z_q(x) = e_{k^*(x)}$ exactly; backward, $\partial z_q/\partial z_e = \mathbf I$, so the
# decoder's gradient $\partial\mathcal L/\partial z_q$ is copied unchanged to the encoder output (VQ-VAE §3.2;
# Bengio et al. 2013, [arXiv:1308.3432](https://arxiv.org/abs/1308.3432), studied such estimators for
# binary stochastic neurons). It is a *biased* estimate — the gradient of the loss at the codeword, used at
# $z_e$ — and it gives the codebook no gradient at all: notebook 01 adds the codebook and commitment terms
# for that, and the commitment weight $\beta$ keeps $z_e$ close to its codeword.
#
# **Checked** with autograd: the lookup alone passes no gradient to $z_e$; the straight-through form passes
# the upstream gradient unchanged, and its forward value is the codeword. Then the figure's two runs.

# %%
codebook = torch.tensor([-1.5, -0.5, 0.5, 1.5])
z_e = torch.tensor([-1.2, 0.1, 0.9], requires_grad=True)
looked_up = codebook[(z_e[:, None] - codebook).abs().argmin(1)]
straight = z_e + (looked_up - z_e).detach()
upstream = torch.tensor([1.0, -2.0, 3.0])
(grad_st,) = torch.autograd.grad((straight * upstream).sum(), z_e)
print("the lookup alone reaches z_e:", looked_up.requires_grad)
print("straight-through: value = codeword", torch.allclose(straight, looked_up),
      "| gradient = upstream", torch.equal(grad_st, upstream))
run = straight_through_state()
print(f"after {len(run.path_st) - 1} steps: true gradient z = {run.path_true[-1]:.2f} (never moved), "
      f"straight-through z = {run.path_st[-1]:.2f}")
print("straight-through ends within 0.3 of the cell border at 1.0:", abs(run.path_st[-1] - 1.0) < 0.3)
assert not looked_up.requires_grad and torch.equal(grad_st, upstream)
assert (run.path_true == run.z0).all() and abs(run.path_st[-1] - 1.0) < 0.3

# %% [markdown]
# ## Summary
#
# - $H(p)$ measures spread, $H(p, r) = H(p) + \mathrm{KL}(p\,\Vert\,r)$ the cost of using $r$ for $p$; the KL
#   divergence is $\ge 0$, zero only for equal distributions, and not symmetric.
# - $I(X;Z) = H(Z) - H(Z\mid X)$ is what a code says about its input; $0 \le I(X;Z) \le H(Z) \le \log K$,
#   and a deterministic encoder has $I(X;Z) = H(Z)$, the entropy of its code usage.
# - A VAE maximises $\mathrm{ELBO} = \mathbb E_q[\log p_\phi(x\mid z)] - \mathrm{KL}(q_\theta(z\mid x)\,\Vert\,p(z))$,
#   which is $\log p(x)$ minus $\mathrm{KL}(q_\theta(z\mid x)\,\Vert\,p(z\mid x))$: tight when the encoder is the
#   posterior, as the one-dimensional model shows exactly.
# - The straight-through estimator $z_q = z_e + \mathrm{sg}[e_{k^*} - z_e]$ copies the decoder's gradient
#   to the encoder through a quantizer whose own gradient is zero.
#
# ## Exercises
#
# Exercises 1–4 are checked: run each `grader.check(...)` cell (student version) to see whether your answer
# has the properties a correct one must have — the public checks say more as you get closer — and the grader
# also runs hidden checks. Exercise 1 is in §2 (predict before you verify). Exercise 5 is a written answer.
# The solution version of this notebook (the one in `notebooks/`) shows a model answer for each. Difficulty:
# ★ a few lines, ★★ needs the idea of its section, ★★★ needs a short derivation.

# %% [raw]
# # BEGIN QUESTION
# name: kl_to_standard_normal
# points: 2

# %% [markdown]
# **Exercise 2 (debugging · ★★).** The function below is meant to return the rate term of a Gaussian VAE,
# $\mathrm{KL}\big(\mathcal N(\mu, \operatorname{diag}\sigma^2)\,\Vert\,\mathcal N(0, \mathbf I)\big)$ summed over
# the last dimension, for `mean` and `log_var` ($\log\sigma^2$) of shape `[N, D]`. It returns 0 when it
# should and it is never negative, yet a VAE trained with it learns nonsense. Find the bug and fix it (keep
# the signature; do not call `torch.distributions` or `vqlab`).

# %% [raw]
# # BEGIN SOLUTION

# %%
def kl_to_standard_normal(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    var = log_var.exp()
    """ # BEGIN PROMPT
    return 0.5 * (1.0 / var + mean ** 2 / var - 1.0 + log_var).sum(-1)
    """ # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    return 0.5 * (mean ** 2 + var - 1.0 - log_var).sum(-1)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_kl_is_zero_for_the_prior_and_right_for_a_wide_encoder(kl_to_standard_normal, torch, math):
    kl = kl_to_standard_normal(torch.zeros(3, 2), torch.zeros(3, 2))
    assert kl.shape == (3,), "sum over the last dimension: one KL per row"
    assert torch.allclose(kl, torch.zeros(3)), "KL(N(0, I) || N(0, I)) = 0"
    kl = kl_to_standard_normal(torch.zeros(1, 1), torch.tensor([[math.log(4.0)]]))
    expected = 0.5 * (4.0 - 1.0 - math.log(4.0))
    assert abs(float(kl[0]) - expected) < 1e-5, \
        (f"q = N(0, 4): KL(q || N(0, 1)) = (4 - 1 - log 4) / 2 = {expected:.3f} nats, got {float(kl[0]):.3f}. "
         "The ELBO's rate is an average under q, the encoder: check which distribution your formula averages over")
test_kl_is_zero_for_the_prior_and_right_for_a_wide_encoder(kl_to_standard_normal, torch, math)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_kl_matches_torch_distributions(kl_to_standard_normal, torch):
    g = torch.Generator().manual_seed(0)
    mean, log_var = torch.randn(20, 5, generator=g), 2 * torch.randn(20, 5, generator=g)
    q = torch.distributions.Normal(mean, (0.5 * log_var).exp())
    ref = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1)
    assert torch.allclose(kl_to_standard_normal(mean, log_var), ref, rtol=1e-4, atol=1e-5)
test_kl_matches_torch_distributions(kl_to_standard_normal, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: best_encoder
# points: 2

# %% [markdown]
# **Exercise 3 (the best encoder · ★★★).** In the one-dimensional VAE of §3 ($p(z) = \mathcal N(0, 1)$,
# $p_\phi(x\mid z) = \mathcal N(a z, s^2)$), which Gaussian encoder $q(z\mid x) = \mathcal N(m, v)$ maximises
# the ELBO for an observed $x$? Write `best_encoder(x, a, s)` returning the pair `(m, std)` with
# `std` $= \sqrt v$, as floats, from your own derivation (do not call `linear_gaussian_posterior`). Your answer
# should make the gap of §3's widget exactly 0.

# %% [raw]
# # BEGIN SOLUTION

# %%
def best_encoder(x: float, a: float, s: float) -> tuple[float, float]:
    # BEGIN SOLUTION
    precision = 1.0 + a * a / (s * s)          # prior precision + the data's
    return (a * x / (s * s)) / precision, math.sqrt(1.0 / precision)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_best_encoder_returns_a_mean_and_a_positive_std(best_encoder):
    m, std = best_encoder(1.0, 1.0, 0.5)
    assert all(isinstance(v, (int, float)) for v in (m, std)), "return two floats (mean, std)"
    assert std > 0, "a standard deviation is positive"
test_best_encoder_returns_a_mean_and_a_positive_std(best_encoder)

# %%
def test_best_encoder_when_the_decoder_ignores_z(best_encoder):
    m, std = best_encoder(2.0, 0.0, 0.5)
    assert abs(m) < 1e-9 and abs(std - 1.0) < 1e-9, \
        ("with a = 0, x says nothing about z: the best encoder is the prior N(0, 1). In general the ELBO is "
         "log p(x) minus KL(q || p(z|x)): find the posterior with Bayes' rule (multiply the two Gaussians in z)")
test_best_encoder_when_the_decoder_ignores_z(best_encoder)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_best_encoder_closes_the_gap(best_encoder):
    from vqlab.widgets.prereq import elbo_state
    for x, a, s in ((1.5, 1.0, 0.5), (-2.0, 3.0, 1.0), (0.3, -0.7, 2.0)):
        m, std = best_encoder(x, a, s)
        assert abs(elbo_state(m, std, x, a=a, s=s).gap) < 1e-9
test_best_encoder_closes_the_gap(best_encoder)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: st_quantize
# points: 2

# %% [markdown]
# **Exercise 4 (straight-through quantizer · ★★).** Write `st_quantize(z, codebook)` for encoder outputs
# `z [N]` and a one-dimensional codebook `codebook [K]`: the forward value is the nearest codeword of each
# entry, and the gradient reaching `z` is the one arriving at the output, unchanged (§4). No gradient may
# reach the codebook through this function.

# %% [raw]
# # BEGIN SOLUTION

# %%
def st_quantize(z: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    # BEGIN SOLUTION
    nearest = codebook[(z[:, None] - codebook).abs().argmin(1)]
    return z + (nearest - z).detach()
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_st_quantize_forward(st_quantize, torch):
    out = st_quantize(torch.tensor([-1.2, 0.1, 0.9, 3.0]), torch.tensor([-1.5, -0.5, 0.5, 1.5]))
    assert torch.allclose(out, torch.tensor([-1.5, 0.5, 0.5, 1.5])), "forward: the nearest codeword of each entry"
test_st_quantize_forward(st_quantize, torch)

# %%
def test_st_quantize_passes_the_gradient(st_quantize, torch):
    z = torch.tensor([-1.2, 0.1, 0.9], requires_grad=True)
    out = st_quantize(z, torch.tensor([-1.5, -0.5, 0.5, 1.5]))
    assert out.requires_grad, ("no gradient reaches z: a lookup (argmin, indexing) has none; write the output "
                               "as z + sg(codeword - z), with .detach() as sg")
    (g,) = torch.autograd.grad((out * torch.tensor([1.0, -2.0, 3.0])).sum(), z)
    assert torch.allclose(g, torch.tensor([1.0, -2.0, 3.0])), "the gradient must reach z unchanged"
test_st_quantize_passes_the_gradient(st_quantize, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_st_quantize_no_codebook_gradient(st_quantize, torch):
    g = torch.Generator().manual_seed(2)
    z = torch.randn(50, generator=g, requires_grad=True)
    w = torch.randn(7, generator=g, requires_grad=True)
    out = st_quantize(z, w)
    assert torch.allclose(out.detach(), w.detach()[(z.detach()[:, None] - w.detach()).abs().argmin(1)], atol=1e-6)
    gz, gw = torch.autograd.grad(out.sum(), [z, w], allow_unused=True)
    assert torch.equal(gz, torch.ones(50)) and (gw is None or gw.abs().sum() == 0)
test_st_quantize_no_codebook_gradient(st_quantize, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: information_bounds
# manual: true
# points: 2

# %% [markdown]
# **Exercise 5 (written · ★).** Show that $0 \le I(X;Z) \le H(Z) \le \log K$ for any encoder $q(k\mid x)$, and
# say when each inequality is an equality.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* $I(X;Z) = \sum_x p(x)\,\mathrm{KL}(q(\cdot\mid x)\,\Vert\,\bar q)$ is an average of KL
# divergences, so it is $\ge 0$, with equality when every $q(\cdot\mid x)$ equals $\bar q$: the code does not
# depend on the input. $I(X;Z) = H(Z) - H(Z\mid X)$ and $H(Z\mid X)$ is an average of entropies, each $\ge 0$,
# so $I(X;Z) \le H(Z)$, with equality when every $q(\cdot\mid x)$ is one-hot (a deterministic encoder). Finally
# $\log K - H(\bar q) = \mathrm{KL}(\bar q\,\Vert\,u)$ for the uniform $u_k = 1/K$ (expand the sum), so
# $H(Z) \le \log K$, with equality when all codes are used equally often. The hard VQ of notebook 01 sits on
# the middle equality; its $I(X;Z)$ reaches $\log K$ only when the usage is uniform — what codebook collapse
# (notebooks 01, 06, 08) destroys.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION
