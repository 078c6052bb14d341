# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (vqlab)
#     language: python
#     name: vqlab
# ---

# %% [markdown]
# # 04 · Neural gas and fuzzy c-means inside the VQ-VAE loss
#
# Source: Y. Badran, *VQ-VAE with Neural Gas and Fuzzy c-Means*, master thesis, Hochschule Mittweida, 2021
# (chapters 4–6, "the thesis"; no public copy is known).
#
# **What you will learn**
#
# 1. Vector quantization as an *expected distortion under a posterior* $q_{\mathbf w}(z\mid x)$ (eq. 4.1),
#    and k-means, neural gas and fuzzy c-means as three choices of that posterior.
# 2. Why k-means can leave *dead units* from a bad start and why neural gas does not (2-D toy data).
# 3. How $\lambda$ (neural gas) and the fuzzifier $m$ (fuzzy c-means) soften the assignment.
# 4. The thesis's generalised VQ-VAE loss (eq. 5.4): swap the posterior, keep everything else — and
#    what each posterior does on the digits at the same codebook size.
# 5. Why the original fuzzy c-means objective (eq. 5.6) is not a posterior, and what happens if you
#    train with it anyway.

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch

import vqlab
from vqlab import clustering
from vqlab.data import load_digits, make_toy
from vqlab.experiments import compare, posterior_vqvae
from vqlab.plotting import plot_voronoi
from vqlab.posteriors import (distance_ranks, fuzzy_cmeans_posterior, fuzzy_cmeans_weights, hard_posterior,
                              neural_gas_posterior, squared_distances)
from vqlab.quantizers import PosteriorQuantizer, VectorQuantizer
from vqlab.train import evaluate, train
from vqlab.widgets.ng_fcm import (draw_ng_annealing, draw_ng_fcm, ng_annealing_state, ng_annealing_widget,
                                  ng_fcm_state, ng_fcm_widget)

vqlab.seed_everything(0)
torch.set_printoptions(precision=3, sci_mode=False)

# %% [markdown]
# ## 1 · Vector quantization as expected distortion under a posterior
#
# A codebook $\mathbf w = \{\mathbf w_0,\dots,\mathbf w_{K-1}\}$ and a distortion
# $d(\mathbf x, \mathbf w_z) = \lVert \mathbf x - \mathbf w_z\rVert^2$. A clustering algorithm gives each point
# a *posterior* (the thesis calls it the responsibility) $p_{\mathbf w}(z\mid \mathbf x)$ over the K codes,
# and vector quantization minimises the expected distortion
#
# $$\mathbf E \approx \sum_{\mathbf x\in X}\sum_{z} p_{\mathbf w}(z\mid\mathbf x)\, d(\mathbf x,\mathbf w_z). \tag{4.1}$$
#
# Three posteriors:
#
# * **k-means** (eq. 4.2): one-hot at the nearest prototype, $p(z\mid\mathbf x)=\mathbf 1_{z=\gamma(\mathbf x)}$,
#   $\gamma(\mathbf x)=\arg\min_z d(\mathbf x,\mathbf w_z)$. Its cells are the Voronoi polyhedra.
# * **neural gas** (eq. 4.3): rank the prototypes by distance, $r(\mathbf x, z)\in\{0,\dots,K-1\}$ (0 = nearest),
#   and weight them by $h_\lambda(r)=e^{-r/\lambda}$. Normalised by $D=\sum_z h_\lambda(r(\mathbf x,z))$ —
#   *the same constant for every point*, because the ranks are always a permutation of $0..K-1$ — this is a
#   posterior, so the neural-gas energy is eq. 4.1.
# * **fuzzy c-means** (eq. 4.4): memberships
#   $w_z(\mathbf x)=\Big(\sum_c \big(\tfrac{\lVert\mathbf x-\mathbf w_z\rVert}{\lVert\mathbf x-\mathbf w_c\rVert}\big)^{2/(m-1)}\Big)^{-1}$
#   with fuzzifier $m>1$. They sum to one, so $p(z\mid\mathbf x)=w_z(\mathbf x)$ is a posterior (eq. 4.6), and so is
#   the normalised $w_z^m/\sum_c w_c^m$ (eq. 4.7). The *original* fuzzy c-means objective (eq. 4.5) weights the
#   distortion by $w_z(\mathbf x)^m$, which does **not** sum to one.
#
# (The thesis writes $d$ both for the squared distance and, in its list of symbols, for "the Euclidean
# distance"; eq. 4.4 is Bezdek's membership with the plain Euclidean norm, which is what vqlab implements:
# in squared distances the exponent is $1/(m-1)$.)
#
# All of them are plain functions in `vqlab.quantizers`, used by the classic algorithms, the widgets and
# the VQ-VAE quantizer alike. One point, four codes:

# %%
x = torch.tensor([[0.0, 0.0]])
w = torch.tensor([[0.5, 0.0], [0.0, 1.0], [-1.5, 0.0], [2.0, 2.0]])
d = squared_distances(x, w)
print("squared distances    ", d[0])
print("ranks r(x, z)        ", distance_ranks(d)[0])
print("k-means              ", hard_posterior(d)[0])
print("neural gas lambda=1  ", neural_gas_posterior(d, 1.0)[0])
print("fuzzy c-means m=2    ", fuzzy_cmeans_posterior(d, 2.0)[0], " (eq. 4.6)")
print("normalised, m=2      ", fuzzy_cmeans_posterior(d, 2.0, normalized=True)[0], " (eq. 4.7)")
print("w^m, m=2 (eq. 4.5)   ", fuzzy_cmeans_weights(d, 2.0)[0], " sum =", round(fuzzy_cmeans_weights(d, 2.0).sum().item(), 3))

# %% [markdown]
# Three facts worth checking rather than believing:
#
# * the soft posteriors tend to the k-means posterior as $\lambda\to 0$ and $m\to 1$;
# * neural gas only looks at *ranks*: scaling all distances by 100 changes nothing, while fuzzy c-means
#   depends on distance *ratios* (also scale-free) — but both ignore how far the point is in absolute terms;
# * the normalised posterior (4.7) is not a new family: $w_z^m/\sum_c w_c^m \propto d_z^{-m/(m-1)}$, which is
#   eq. 4.6 with the fuzzifier $m' = 2 - 1/m$ (same exponent $1/(m'-1) = m/(m-1)$).

# %%
pts = make_toy("blobs", 200, seed=1)[0]
dd = squared_distances(pts, w)
hard = hard_posterior(dd)
print("lambda -> 0 gives k-means:", torch.allclose(neural_gas_posterior(dd, 1e-3), hard))
print("m -> 1 gives k-means:     ", torch.allclose(fuzzy_cmeans_posterior(dd, 1 + 1e-4), hard, atol=1e-4))
print("neural gas ignores scale: ", torch.equal(neural_gas_posterior(dd, 1.0), neural_gas_posterior(100 * dd, 1.0)))
gap = (fuzzy_cmeans_posterior(dd, 3.0, normalized=True) - fuzzy_cmeans_posterior(dd, 2 - 1 / 3)).abs().max()
print("eq. 4.7 at m=3 equals eq. 4.6 at m'=5/3, max gap < 1e-5:", gap.item() < 1e-5)
print("sum_z w^m over the points, m=2: min %.3f  max %.3f  (eq. 4.5 weights are not a posterior)"
      % tuple(fuzzy_cmeans_weights(dd, 2.0).sum(1).aminmax()))

# %% [markdown]
# Voronoi cells versus soft memberships for the same codebook: on the left the hard cells of k-means;
# in the middle and on the right, how much of its mass the posterior of each point puts on its own nearest
# code (1 = hard). Fuzzy c-means is sharp near a prototype and soft along the cell borders. The neural-gas
# panel is flat: the nearest code always has rank 0 and so always gets $1/D$ — the posterior depends on
# *where* a point is only through the order of the distances.

# %%
gx, gy = np.meshgrid(np.linspace(-2.5, 3, 120), np.linspace(-1.5, 3, 120))
grid = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
dg = squared_distances(grid, w)
fig, axes = plt.subplots(1, 3, figsize=(11, 3.3))
plot_voronoi(w, ax=axes[0], resolution=120, title="k-means: Voronoi cells")
axes[0].set(xlim=(-2.5, 3), ylim=(-1.5, 3))
for ax, (name, q) in zip(axes[1:], [("neural gas, lambda=1", neural_gas_posterior(dg, 1.0)),
                                    ("fuzzy c-means, m=2", fuzzy_cmeans_posterior(dg, 2.0))]):
    im = ax.contourf(gx, gy, q.max(1).values.reshape(gx.shape).numpy(), levels=np.linspace(0, 1, 11), cmap="viridis")
    ax.scatter(w[:, 0], w[:, 1], marker="x", c="w")
    ax.set_title(f"{name}: max_z q(z|x)", fontsize=9)
fig.colorbar(im, ax=axes[1:].tolist(), shrink=0.8)
plt.show()

# %% [markdown]
# ## 2 · The three algorithms on 2-D toy data
#
# `vqlab.clustering` runs the batch versions of the three algorithms: weights from the posterior above,
# then the exact minimiser for fixed weights, $\mathbf w_z = \sum_n a_{nz}\mathbf x_n / \sum_n a_{nz}$
# (Lloyd's k-means; batch neural gas, Cottrell et al. 2006, [doi:10.1016/j.neunet.2006.05.018](https://doi.org/10.1016/j.neunet.2006.05.018) = thesis ref. [7]; Bezdek's fuzzy c-means with
# $a=w^m$). Neural gas anneals $\lambda(t)=\lambda_i(\lambda_f/\lambda_i)^{t/t_{\max}}$ from $K/2$ to $0.01$.
#
# A **bad start**: $K=10$ prototypes drawn uniformly from a box twice the size of the data. Prototypes that
# start where no point is nearest to them get zero weight under the one-hot posterior and never move —
# dead units. Under neural gas every prototype has a rank for every point, so every prototype is pulled
# towards the data while $\lambda$ is large.

# %%
xt, yt = make_toy("blobs", 500, seed=0)
bad = clustering.init_prototypes(xt, 10, "box", seed=0, spread=2.0)
runs = {"k-means": clustering.kmeans(xt, bad, 40),
        "neural gas": clustering.neural_gas(xt, bad, 40),
        "fuzzy c-means (m=2)": clustering.fuzzy_cmeans(xt, bad, 40, m=2.0)}
good = clustering.kmeans(xt, clustering.init_prototypes(xt, 10, "kmeans++", seed=0), 40)
print("dead units at the start:", clustering.dead_units(xt, bad))
for name, res in runs.items():
    print(f"{name:>20}: dead units after 40 iterations = {clustering.dead_units(xt, res.prototypes)}")
print(f"{'k-means, k-means++':>20}: dead units after 40 iterations = {clustering.dead_units(xt, good.prototypes)}")

# %%
fig, axes = plt.subplots(1, 4, figsize=(14, 3.3))
for ax, (name, res) in zip(axes, runs.items()):
    plot_voronoi(res.prototypes, xt, yt, ax=ax, resolution=120, title=name)
    ax.scatter(bad[:, 0], bad[:, 1], marker=".", c="tab:red", s=30)
for name, res in runs.items():
    axes[3].plot(res.distortion, label=name)
axes[3].plot(good.distortion, "--", label="k-means, k-means++ start")
axes[3].set(yscale="log", xlabel="iteration", title="distortion E (eq. 4.2 / N)")
axes[3].legend(fontsize=7)
fig.tight_layout()
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
final = {name: res.distortion[-1] for name, res in runs.items()}
print({k: round(v, 3) for k, v in final.items()}, "k-means++ start:", round(good.distortion[-1], 3))

# %%
print("k-means stalls at more than twice the distortion of neural gas:", final["k-means"] > 2 * final["neural gas"])
print("neural gas: the lowest final distortion of the three:", min(final, key=final.get) == "neural gas")
print("k-means from a k-means++ start: less than half the distortion of the bad start:",
      good.distortion[-1] < final["k-means"] / 2)
assert final["k-means"] > 2 * final["neural gas"] and min(final, key=final.get) == "neural gas"
assert good.distortion[-1] < final["k-means"] / 2

# %% [markdown]
# Red dots: the bad start; red circles: dead units. k-means keeps the six prototypes that started away
# from the data where they were, and its distortion stalls at more than twice that of neural gas. Neural gas
# ends with no dead unit and the lowest distortion of the three: with a large $\lambda$ early on all prototypes move to
# the data, and as $\lambda\to 0$ the algorithm turns into k-means (the limit checked above). Fuzzy c-means
# also rescues them here, since every membership is positive; k-means itself is fine from a k-means++
# start — the dead units come from the start, not from the objective.
#
# ## 3 · Widgets: $\lambda$, $m$ and the annealing
#
# Move $\lambda$ and $m$: the middle panel shows the probe's posterior ordered by rank, the right panel
# where batch neural gas (at this *fixed* $\lambda$) and fuzzy c-means (at this $m$) settle from the same
# start. Large $\lambda$ pulls all neural-gas prototypes towards the middle of the data; $\lambda\to0$ is
# k-means. Static figure first (for readers on GitHub), then the live version.

# %%
draw_ng_fcm(ng_fcm_state(lam=1.0, m=2.0))
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
ng_fcm_widget()

# %% [markdown]
# The annealing stepper replays the bad start of section 2 under neural gas: drag the step $t$ (or press
# play) and watch the far prototypes being dragged in while $\lambda(t)$ decays.

# %%
draw_ng_annealing(ng_annealing_state(10))
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
ng_annealing_widget()

# %% [markdown]
# ## 4 · Inside the VQ-VAE (thesis ch. 5)
#
# Encoder $z_\theta(\mathbf x)$, codebook $\mathbf w$, decoder $p_\phi(\mathbf x\mid z)$. The thesis keeps the
# reconstruction through the nearest prototype $\beta(\mathbf x)=\mathbf w_{\gamma(\mathbf x)}$ (straight-through)
# and replaces the two latent terms by expectations under the posterior:
#
# $$\ell(\mathbf x)= \log p_\phi(\mathbf x\mid\beta(\mathbf x))
#   + \alpha\,\mathbb E_{q}\lVert z_\theta(\mathbf x)-\mathrm{sg}(\mathbf w_z)\rVert^2
#   + \eta\,\mathbb E_{q}\lVert \mathrm{sg}(z_\theta(\mathbf x))-\mathbf w_z\rVert^2 \tag{5.4}$$
#
# The commitment term (weight $\alpha$, vqlab's `beta`) reaches only the encoder, the VQ loss (weight $\eta$,
# `eta`) only the codebook. With the k-means posterior this *is* the vanilla VQ-VAE (eq. 5.5).
# `PosteriorQuantizer(K, D, posterior=...)` implements it for `"hard"`, `"neural_gas"` (`lam`, optionally
# annealed with `lam_final`, `lam_steps`: one step per optimizer step), `"fcm"` (eq. 4.6), `"fcm_normalized"`
# (eq. 4.7) and `"fcm_original"` (eq. 5.6, with a warning).
#
# **Decoder input.** As in eq. 5.4, the decoder always sees the nearest codeword
# $z_\theta + \mathrm{sg}(\mathbf w_{\gamma(\mathbf x)} - z_\theta)$; the soft posterior shapes only the
# latent-space terms. (Decoding the posterior mean instead is the soft VQ-VAE of notebook 03.)
#
# First the identity eq. 5.4 → eq. 5.5, checked on numbers: the same codebook, the same encoder output.

# %%
vq = VectorQuantizer(16, 4, beta=0.25)
pq = PosteriorQuantizer(16, 4, posterior="hard", beta=0.25, eta=1.0)
pq.load_state_dict(vq.state_dict(), strict=False)
z = torch.randn(64, 4)
a, b = vq(z), pq(z)
for k in ("codebook", "commitment"):
    print(f"{k:>10}: VectorQuantizer {a.losses[k].item():.3f}  posterior loss {b.losses[k].item():.3f}  "
          f"equal: {torch.isclose(a.losses[k], b.losses[k]).item()}")
print("same decoder input:", torch.equal(a.z_q, b.z_q))

# %% [markdown]
# **The experiment.** 8×8 digits (1347 train / 450 test images), an MLP encoder that emits $M=4$ latent
# vectors of dimension $D=8$ per image, $K=128$ codes, the VQ-VAE reference initialisation of the codebook
# ($U(-1/K, 1/K)$), $\alpha=0.25$, $\eta=1$, Adam with lr $2\cdot10^{-3}$, 8 epochs, seeds 0, 1, 2. Neural gas
# uses the thesis's $\lambda=3$; both fuzzy posteriors use $m=1.5$. Reported on the **test set**:
# reconstruction MSE, the perplexity of the hard code usage and the number of codes used (out of 128).

# %%
digits = load_digits()
K, M, D, EPOCHS, SEEDS = 128, 4, 8, 8, (0, 1, 2)


BASELINE = ((digits.x_test - digits.x_train.mean(0)) ** 2).mean().item()  # predict the mean digit
print(f"test MSE of predicting the mean training digit: {BASELINE:.4f}")
COLUMNS = {"metrics": ("recon", "perplexity", "codes_used"), "digits": {"recon": 4, "perplexity": 1, "codes_used": 1}}


def variant(**settings):
    """seed -> notebook 04's MLP VQ-VAE (same nets and K for every posterior) with these quantizer settings."""
    return lambda seed: posterior_vqvae(seed, num_codes=K, code_dim=D, codes_per_image=M, **settings)


# %%
# NBVAL_IGNORE_OUTPUT
variants = {"vanilla (k-means)": dict(posterior="hard"),
            "neural gas, lambda=3": dict(posterior="neural_gas", lam=3.0),
            "fuzzy c-means (4.6)": dict(posterior="fcm", m=1.5),
            "normalised fcm (4.7)": dict(posterior="fcm_normalized", m=1.5)}
results = compare({name: variant(**kw) for name, kw in variants.items()}, digits.x_train, digits.x_test,
                  seeds=SEEDS, epochs=EPOCHS, batch_size=64, lr=2e-3)
print(results.table(**COLUMNS))

# %%
ng, van = (lambda m: results.mean("neural gas, lambda=3", m)), (lambda m: results.mean("vanilla (k-means)", m))
fuzzy = ("fuzzy c-means (4.6)", "normalised fcm (4.7)")
claims = {
    "neural gas uses almost the whole codebook (> 90 % of 128 codes)": ng("codes_used") > 0.9 * K,
    "neural gas: perplexity > 2.5 x vanilla, and a lower recon error":
        ng("perplexity") > 2.5 * van("perplexity") and ng("recon") < van("recon"),
    "vanilla leaves most of its 128 codes dead": van("codes_used") < K / 2,
    "both fuzzy posteriors: recon within 0.005 of the mean-digit baseline":
        all(abs(results.mean(name, "recon") - BASELINE) < 0.005 for name in fuzzy),
}
for claim, holds in claims.items():
    print(f"{claim}: {holds}")
assert all(claims.values())

# %% [markdown]
# **What the numbers say** (this small setting; 3 seeds):
#
# * **Neural gas** uses almost the whole codebook and its perplexity is several times that of the vanilla
#   VQ-VAE, which leaves most of its 128 codes dead from the tiny reference initialisation; its
#   reconstruction error is also lower. This is the thesis's qualitative claim: *the paper reports*, for
#   CIFAR-10 with 512 prototypes of dimension 64 and $\lambda=3$, a perplexity of about **450** with a
#   training-set reconstruction error of about **0.058–0.06** after 20–30 epochs ($\alpha=0.10$–$0.15$,
#   $\eta=1$; perplexity 463 and 0.065 for $\lambda=10$). Those are training-set numbers on a different data set,
#   network and scale — compare the *pattern* (near-full codebook use), not the values.
# * **Both fuzzy posteriors fail here**: their reconstruction error stays at the level of predicting the mean
#   digit, so the codes carry almost nothing about the image (even where many of them are used). The reason
#   is the start, not the loss: all codes begin within
#   $\pm 1/K$ of the origin, so every encoder output sees nearly equal distance *ratios* and an almost uniform
#   membership. Both latent terms then pull every code towards every encoder output and the codebook contracts
#   into a clump. Neural gas is immune: its weights depend on ranks only, and the rank-0 code always gets the
#   largest pull, however similar the distances are. The thesis itself reports a reconstruction loss of
#   0.62 for the posterior 4.6 ($\alpha=0.08$, 20 epochs) and that fuzzy c-means "diverges on most tests".
#
# Same runs with a data-dependent **k-means++ start** of the codebook (seed 0 only): the fuzzy posteriors
# now train, which supports the explanation above — and the vanilla VQ-VAE benefits just as much, so compare
# rows within one table only. The last row anneals $\lambda$ from 8 to 0.5 during training with the
# quantizer's own step counter.

# %%
# NBVAL_IGNORE_OUTPUT
variants_pp = {"vanilla, k-means++": dict(posterior="hard", init="kmeans++"),
               "fcm (4.6), k-means++": dict(posterior="fcm", m=1.5, init="kmeans++"),
               "norm. fcm (4.7), k-means++": dict(posterior="fcm_normalized", m=1.5, init="kmeans++"),
               "neural gas, lambda 8 -> 0.5": dict(posterior="neural_gas", lam=8.0, lam_final=0.5,
                                                  lam_steps=EPOCHS * 22)}
results_pp = compare({name: variant(**kw) for name, kw in variants_pp.items()}, digits.x_train, digits.x_test,
                     seeds=(0,), epochs=EPOCHS, batch_size=64, lr=2e-3)
print(results_pp.table(**COLUMNS))

# %%
pp = lambda name, m: results_pp.mean(name, m)  # noqa: E731
claims = {
    "k-means++ start: both fuzzy posteriors reconstruct below 0.75 x the mean-digit baseline":
        all(pp(name, "recon") < 0.75 * BASELINE for name in ("fcm (4.6), k-means++", "norm. fcm (4.7), k-means++")),
    "k-means++ start: vanilla reconstructs better than with the reference start":
        pp("vanilla, k-means++", "recon") < van("recon"),
    "annealed neural gas uses fewer codes than fixed lambda=3":
        pp("neural gas, lambda 8 -> 0.5", "codes_used") < ng("codes_used"),
}
for claim, holds in claims.items():
    print(f"{claim}: {holds}")
assert all(claims.values())

# %% [markdown]
# With the k-means++ start both fuzzy posteriors reconstruct far below the mean-digit baseline. The annealed
# neural gas ends with fewer codes in use than the fixed $\lambda=3$ of the first table: as $\lambda$ shrinks
# the posterior turns one-hot again and codes can die, as in the vanilla VQ-VAE (one seed only: a hint, not a
# result — see exercise 3).
#
# ### The original fuzzy c-means objective (eq. 5.6)
#
# Training with the weights $w_z(\mathbf x)^m$ instead of a posterior: their sum per point,
# $\sum_z w_z^m\in[K^{1-m}, 1]$, is an *effective* commitment and VQ weight that the optimisation itself
# changes (thesis §5.1.2: "the scaling that we control with the hyperparameter α is chaotic"). With
# nearly uniform memberships it sits near $K^{1-m} = 128^{-0.5}\approx 0.09$ — the latent terms are
# almost switched off. vqlab warns when you ask for it:

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    PosteriorQuantizer(K, D, posterior="fcm_original", m=1.5)
print(caught[0].category.__name__ + ":", str(caught[0].message).split(":")[0])

# %% [markdown]
# We train it with the same settings, logging $\frac1N\sum_n\sum_z w_z(\mathbf x_n)^m$ and the mean squared norm
# of the encoder outputs on a fixed batch after every step. `train` raises `FloatingPointError` as soon as the
# loss is not finite; if that happens we report the step instead of crashing.

# %%
# NBVAL_IGNORE_OUTPUT
probe = digits.x_train[:256]


def fcm_mass(model, step):
    """Callback: mean sum_z w_z^m and mean ||z_e||^2 on a fixed batch (eq. 5.6 weights)."""
    with torch.no_grad():
        ze = model.encode(probe).reshape(-1, D)
        wm = fuzzy_cmeans_weights(squared_distances(ze, model.quantizer.codebook), model.quantizer.m)
    return {"sum_w_m": wm.sum(1).mean().item(), "z_norm2": ze.pow(2).sum(1).mean().item()}


with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the eq. 5.6 warning was shown above
    model_56 = posterior_vqvae(0, posterior="fcm_original", m=1.5, num_codes=K, code_dim=D, codes_per_image=M)
try:
    hist_56 = train(model_56, digits.x_train, epochs=EPOCHS, batch_size=64, lr=2e-3, seed=0,
                    callbacks=[fcm_mass], progress=False)
    ev_56 = evaluate(model_56, digits.x_test)
    print("eq. 5.6 finished without a non-finite loss:",
          {k: round(ev_56[k], 4) for k in ("recon", "perplexity", "codes_used")})
except FloatingPointError as err:
    hist_56 = None
    print("eq. 5.6 diverged:", str(err).split(";")[0])

# %%
print("eq. 5.6: the loss stayed finite for all 8 epochs:", hist_56 is not None)
if hist_56 is not None:
    print("eq. 5.6: test recon within 0.005 of the mean-digit baseline:", abs(ev_56["recon"] - BASELINE) < 0.005)

# %%
# NBVAL_IGNORE_OUTPUT
if hist_56 is not None:
    fig, axes = plt.subplots(1, 3, figsize=(11, 3))
    axes[0].plot(hist_56.steps["sum_w_m"])
    axes[0].axhline(K ** (1 - 1.5), ls="--", c="k", lw=0.8)
    axes[0].axhline(1.0, ls=":", c="k", lw=0.8)
    axes[0].set(title="mean sum_z w_z^m (dashed: K^(1-m))", xlabel="step", ylim=(0, 1.05))
    axes[1].plot(hist_56.steps["z_norm2"])
    axes[1].set(title="mean ||z_e||^2", xlabel="step", yscale="log")
    axes[2].plot(hist_56.steps["recon"], label="eq. 5.6")
    axes[2].axhline(results.mean("vanilla (k-means)", "recon"), ls="--", c="k", lw=0.8, label="vanilla (test, mean)")
    axes[2].axhline(BASELINE, ls=":", c="k", lw=0.8, label="mean digit (test)")
    axes[2].set(title="reconstruction MSE (train batches)", xlabel="step", yscale="log")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    plt.show()
    z2 = hist_56.steps["z_norm2"]
    print(f"sum_z w^m: max {max(hist_56.steps['sum_w_m']):.4f} (K^(1-m) = {K ** -0.5:.4f}); "
          f"||z_e||^2: start {z2[0]:.3g}, peak {max(z2):.3g} at step {int(np.argmax(z2))}, end {z2[-1]:.3g}")
    assert max(hist_56.steps["sum_w_m"]) < 0.5 and max(z2) > 10 * z2[0]

# %%
if hist_56 is not None:
    z2, mass = hist_56.steps["z_norm2"], hist_56.steps["sum_w_m"]
    print("sum_z w^m stays within 10 % of its minimum K^(1-m):", max(mass) < 1.1 * K ** (1 - 1.5))
    print("||z_e||^2 peaks > 100 x its start, and ends < 10 x its start:", max(z2) > 100 * z2[0] and z2[-1] < 10 * z2[0])
    assert max(mass) < 1.1 * K ** (1 - 1.5) and max(z2) > 100 * z2[0] and z2[-1] < 10 * z2[0]

# %% [markdown]
# In this run the loss stays finite — we do not reproduce a non-finite loss in 8 small epochs — but the
# objective misbehaves in the way the thesis describes. The mass $\sum_z w_z^m$ that scales both latent
# terms stays pinned near its minimum $K^{1-m}$ (near-uniform memberships), so the commitment and VQ losses
# act with about a tenth of the weights $\alpha$, $\eta$ we asked for. With so little commitment the encoder
# outputs blow up by orders of magnitude early in training before they come back, and the model ends with a
# reconstruction error at the mean-digit level. The thesis saw outright divergence with a ResNet on CIFAR-10;
# treat "diverges" as the paper's report, and "a transient blow-up and no useful code" as ours.
#
# ## 5 · Summary
#
# * Vector quantization minimises an expected distortion under a posterior (eq. 4.1). k-means (one-hot),
#   neural gas ($e^{-r/\lambda}$ over distance ranks) and fuzzy c-means (memberships, eqs. 4.6/4.7) are three
#   posteriors; the original fuzzy c-means weights $w^m$ (eq. 4.5/5.6) are not one.
# * The soft posteriors reduce to k-means as $\lambda\to0$ or $m\to1$; eq. 4.7 is eq. 4.6 with $m'=2-1/m$.
# * From a bad start k-means leaves dead units; batch neural gas with an annealed $\lambda$ leaves none and
#   reaches a lower distortion on the toy set.
# * The thesis's eq. 5.4 turns any posterior into a VQ-VAE loss; the one-hot posterior gives exactly the
#   vanilla loss (checked numerically). On the digits with the reference initialisation, neural gas used far
#   more of the codebook and reconstructed better than the vanilla VQ-VAE; the fuzzy posteriors collapsed,
#   because distance-ratio memberships are nearly uniform when all codes start at the origin, and trained
#   with a k-means++ start.
# * The unnormalised eq. 5.6 weakens and destabilises the latent terms; here it did not produce a non-finite
#   loss, but it did not learn a useful code.
#
# ## Exercises
#
# Exercises 1–3 are checked: run each `grader.check(...)` cell (student version) to see whether your answer
# has the properties a correct one must have; the grader also runs hidden checks. Exercises 4–9 are written
# answers. The solution version of this notebook (the one in `notebooks/`) shows a model answer for each.

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 04_neural_gas_fuzzy_cmeans
# init_cell: true
# check_all_cell: false
# export_cell: false
# solutions_pdf: false
# run_tests: false
# generate: true
# tests:
#   files: false

# %% [raw]
# # BEGIN QUESTION
# name: ng_posterior
# points: 2

# %% [markdown]
# **Exercise 1 (the neural-gas posterior, eq. 4.3).** Write `ng_posterior(dist, lam)`: for squared distances
# `dist [N, K]` return the posterior `[N, K]` with $q(z\mid\mathbf x)=e^{-r(\mathbf x,z)/\lambda}/D$, where
# $r(\mathbf x, z)\in\{0,\dots,K-1\}$ is the rank of code $z$ by distance (0 = nearest; break ties by the lower
# code index, as `argmin` does) and $D$ normalises every row to one. Use only torch operations (no loops over
# points; `torch.argsort` twice gives ranks). Do not call `vqlab`'s own `neural_gas_posterior`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def ng_posterior(dist: torch.Tensor, lam: float) -> torch.Tensor:
    # BEGIN SOLUTION
    ranks = torch.argsort(torch.argsort(dist, dim=1, stable=True), dim=1)
    return torch.softmax(-ranks.to(dist.dtype) / lam, dim=1)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_ng_posterior_small(ng_posterior, torch):
    d = torch.tensor([[0.25, 1.0, 2.25, 8.0], [4.0, 0.5, 9.0, 1.0]])
    q = ng_posterior(d, 1.0)
    assert isinstance(q, torch.Tensor) and q.shape == (2, 4), "return a tensor of shape [N, K]"
    h = torch.exp(-torch.arange(4.0))
    assert torch.allclose(q[0], h / h.sum()), "row 0: the codes are already in rank order"
    assert torch.allclose(q[1], (h / h.sum())[[2, 0, 3, 1]]), "row 1: ranks are 2, 0, 3, 1"
test_ng_posterior_small(ng_posterior, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_ng_posterior_matches_vqlab(ng_posterior, torch):
    from vqlab.posteriors import neural_gas_posterior, squared_distances
    g = torch.Generator().manual_seed(41)
    d = squared_distances(torch.randn(200, 3, generator=g), torch.randn(12, 3, generator=g))
    for lam in (0.3, 2.0, 7.0):
        q = ng_posterior(d, lam)
        assert q.shape == (200, 12) and torch.allclose(q.sum(1), torch.ones(200))
        assert torch.allclose(q, neural_gas_posterior(d, lam), atol=1e-6)
    assert torch.allclose(ng_posterior(100 * d, 2.0), ng_posterior(d, 2.0)), "ranks ignore the scale"
    assert torch.equal(ng_posterior(d, 1e-3).argmax(1), d.argmin(1)), "lam -> 0 is the k-means posterior"
test_ng_posterior_matches_vqlab(ng_posterior, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: fcm_posterior
# points: 2

# %% [markdown]
# **Exercise 2 (fuzzy c-means memberships, eqs. 4.4 and 4.6).** Write `fcm_posterior(dist, m)`: for *squared*
# distances `dist [N, K]` (all positive) return the memberships
# $w_z(\mathbf x)=\big(\sum_c (d_z/d_c)^{1/(m-1)}\big)^{-1}$ `[N, K]` (eq. 4.4 with the Euclidean norm, written in
# squared distances), a posterior for every fuzzifier $m>1$. Keep it finite for $m$ close to 1 (hint: it is a
# softmax of $-\log d_z/(m-1)$). Do not call `vqlab`'s `fuzzy_cmeans_posterior`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def fcm_posterior(dist: torch.Tensor, m: float) -> torch.Tensor:
    # BEGIN SOLUTION
    return torch.softmax(-torch.log(dist) / (m - 1.0), dim=1)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_fcm_posterior_small(fcm_posterior, torch):
    d = torch.tensor([[1.0, 4.0], [2.0, 2.0]])
    q = fcm_posterior(d, 2.0)
    assert isinstance(q, torch.Tensor) and q.shape == (2, 2), "return a tensor of shape [N, K]"
    assert torch.allclose(q, torch.tensor([[0.8, 0.2], [0.5, 0.5]])), "m = 2: w_z is proportional to 1 / d_z"
test_fcm_posterior_small(fcm_posterior, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_fcm_posterior_properties(fcm_posterior, torch):
    from vqlab.posteriors import fuzzy_cmeans_posterior, squared_distances
    g = torch.Generator().manual_seed(43)
    d = squared_distances(torch.randn(150, 4, generator=g), torch.randn(9, 4, generator=g)).clamp_min(1e-4)
    for m in (1.5, 2.0, 3.0):
        q = fcm_posterior(d, m)
        assert q.shape == (150, 9) and torch.allclose(q.sum(1), torch.ones(150), atol=1e-5)
        assert torch.allclose(q, fuzzy_cmeans_posterior(d, m), atol=1e-5)
        assert torch.allclose(fcm_posterior(10 * d, m), q, atol=1e-5), "memberships depend on distance ratios only"
    q = fcm_posterior(d, 3.0) ** 3
    assert torch.allclose(q / q.sum(1, keepdim=True), fcm_posterior(d, 2 - 1 / 3), atol=1e-5), "eq. 4.7 = eq. 4.6 at m' = 2 - 1/m"
    sharp = fcm_posterior(d, 1.01)
    assert torch.isfinite(sharp).all() and torch.equal(sharp.argmax(1), d.argmin(1)), "m -> 1: finite, k-means"
test_fcm_posterior_properties(fcm_posterior, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: latent_terms
# points: 2

# %% [markdown]
# **Exercise 3 (the latent terms of eq. 5.4).** Write `latent_terms(z, codebook, probs, beta, eta)` for encoder
# outputs `z [N, D]`, a codebook `[K, D]` and a posterior `probs [N, K]`: return a dict with
# `"commitment"` $=\beta\,\frac1N\sum_n\sum_z q(z\mid\mathbf x_n)\lVert z_n-\mathrm{sg}(\mathbf w_z)\rVert^2/D$ and
# `"codebook"` $=\eta\,\frac1N\sum_n\sum_z q(z\mid\mathbf x_n)\lVert \mathrm{sg}(z_n)-\mathbf w_z\rVert^2/D$ (each
# divided by $D$, as `PosteriorQuantizer` does). The posterior is a fixed weight: no gradient may flow through
# `probs`, and each term must move only its own side.

# %% [raw]
# # BEGIN SOLUTION

# %%
def latent_terms(z: torch.Tensor, codebook: torch.Tensor, probs: torch.Tensor, beta: float, eta: float) -> dict:
    # BEGIN SOLUTION
    q, dim = probs.detach(), z.shape[1]
    commit = (q * squared_distances(z, codebook.detach())).sum(1).mean() / dim
    vq = (q * squared_distances(z.detach(), codebook)).sum(1).mean() / dim
    return {"commitment": beta * commit, "codebook": eta * vq}
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_latent_terms_hard_posterior_is_vanilla(latent_terms, torch):
    from vqlab.posteriors import hard_posterior, squared_distances
    from vqlab.quantizers import VectorQuantizer
    q = VectorQuantizer(8, 3, beta=0.25, seed=0)
    z = torch.randn(40, 3, generator=torch.Generator().manual_seed(2))
    out = q(z)
    terms = latent_terms(z, q.codebook, hard_posterior(squared_distances(z, q.codebook)), 0.25, 1.0)
    assert isinstance(terms, dict), "return a dict with 'commitment' and 'codebook'"
    for k in ("codebook", "commitment"):
        assert torch.allclose(terms[k], out.losses[k]), f"{k}: with the k-means posterior eq. 5.4 is eq. 5.5"
test_latent_terms_hard_posterior_is_vanilla(latent_terms, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_latent_terms_soft_and_gradient_paths(latent_terms, torch):
    from vqlab.posteriors import neural_gas_posterior, posterior_losses, squared_distances
    g = torch.Generator().manual_seed(47)
    z = torch.randn(30, 4, generator=g, requires_grad=True)
    w = torch.randn(6, 4, generator=g, requires_grad=True)
    probs = torch.softmax(torch.randn(30, 6, generator=g), 1).requires_grad_()
    terms = latent_terms(z, w, probs, 0.3, 0.7)
    ref = posterior_losses(z, w, probs, 0.3, 0.7)
    for k in ("codebook", "commitment"):
        assert torch.allclose(terms[k], ref[k], atol=1e-6), f"{k} differs from vqlab's posterior_losses"
    gz, gw, gp = torch.autograd.grad(terms["commitment"], [z, w, probs], allow_unused=True)
    assert gz is not None and gz.abs().sum() > 0, "the commitment term moves the encoder"
    assert (gw is None or gw.abs().sum() == 0) and (gp is None or gp.abs().sum() == 0)
    gz, gw, gp = torch.autograd.grad(terms["codebook"], [z, w, probs], allow_unused=True)
    assert gw is not None and gw.abs().sum() > 0, "the codebook term moves the codewords"
    assert (gz is None or gz.abs().sum() == 0) and (gp is None or gp.abs().sum() == 0)
    q = neural_gas_posterior(squared_distances(z.detach(), w.detach()), 2.0)
    t = latent_terms(z, w, q, 1.0, 1.0)
    assert torch.isclose(t["commitment"], t["codebook"]), "alpha = eta gives two equal values"
test_latent_terms_soft_and_gradient_paths(latent_terms, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: rank_gradients
# manual: true
# points: 2

# %% [markdown]
# **Exercise 4 (rank gradients).** Why does the neural-gas posterior contribute no gradient of its own in
# eq. 5.4, whereas the fuzzy memberships could? What would change if `posterior_losses` did not detach the
# posterior?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* The neural-gas weight $e^{-r(\mathbf x,z)/\lambda}/D$ depends on $z_\theta$ and $\mathbf w$ only
# through the ranks $r$, an integer-valued (argsort) function of the distances: piecewise constant, so its
# derivative is zero wherever it exists and undefined only on the ties (a null set); $D$ is a constant. Autograd
# has nothing to carry (sort indices have no gradient), detached or not. The fuzzy memberships
# $\mathrm{softmax}_z(-\log d_z/(m-1))$ are smooth in the distances for $d_z>0$, so they have a non-zero gradient.
# Without the detach, $\nabla \mathbb E_q[d]=\sum_z q_z\nabla d_z+\sum_z d_z\nabla q_z$: the second sum moves the
# memberships towards the closer codes (it sharpens the posterior, which lowers the expectation) and, since $q$
# depends on both $z_\theta$ and $\mathbf w$, the commitment term would then also reach the codebook and the VQ
# term the encoder — the $\mathrm{sg}$ split of eq. 5.4 (each term moves one side, with its own weight $\alpha$ or
# $\eta$) would be lost. For neural gas nothing changes.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: fuzzifier_sweep
# manual: true
# points: 1

# %% [markdown]
# **Exercise 5 (fuzzifier sweep).** Re-run the fuzzy rows for $m\in\{1.05, 1.2, 2\}$ with the reference
# initialisation. Where is the transition from "collapses" to "trains"? Relate it to the exponent $1/(m-1)$.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer (what to look for).* The membership ratio of two codes is $w_z/w_c=(d_c/d_z)^{1/(m-1)}$. With
# all codes within $\pm1/K$ of the origin and encoder outputs of norm about one, $d_c/d_z=1+\delta$ with a tiny
# $\delta$ (of order $\lVert\mathbf w\rVert/\lVert z\rVert$), so $w_z/w_c\approx 1+\delta/(m-1)$: the posterior is
# nearly uniform unless $1/(m-1)$ is large enough to amplify $\delta$ to order one. $m=2$ (exponent 1) is
# flatter than the notebook's $m=1.5$ (exponent 2) and should collapse at least as badly; $m=1.2$ (5) and
# $m=1.05$ (20) sharpen the start, and the transition is where $\delta/(m-1)$ becomes of order one — look for the
# reconstruction error leaving the mean-digit baseline and for the perplexity. As $m\to1$ the posterior tends to
# k-means, so the smallest $m$ should behave like the vanilla row (including its dead codes).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: annealing
# manual: true
# points: 1

# %% [markdown]
# **Exercise 6 (annealing).** Train neural gas with $\lambda$ annealed from $K/2$ to 0.01 over all steps. Does the
# codebook use survive the end of the annealing, when the posterior has become one-hot again?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer (what to look for).* Use `variant(posterior="neural_gas", lam=K / 2, lam_final=0.01,
# lam_steps=EPOCHS * 22)` in `compare`. At $\lambda=0.01$ the rank-1 weight is $e^{-100}$: the last steps are
# vanilla VQ-VAE steps. Early on (large $\lambda$) every code is pulled towards the encoder outputs, so the
# codebook spreads over the data; what the end of the annealing can do is only to let codes that are nearest to
# no encoder output stop moving (dead again), while the encoder keeps moving. Compare `codes_used` and
# `perplexity` with the fixed $\lambda=3$ row and with the vanilla row: the question is whether the final number
# stays near the fixed-$\lambda$ value or drifts towards the vanilla one — use all three seeds (the notebook's
# 8 → 0.5 run is a single seed).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: alpha_eta
# manual: true
# points: 1

# %% [markdown]
# **Exercise 7 ($\alpha$ vs. $\eta$).** The thesis notes (§5.1) that with $\alpha=\eta$ the two latent terms add
# up to one expectation. Try $\alpha\in\{0.1, 0.5, 1\}$ for neural gas and watch the reconstruction error.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* The two terms have the same value $\mathbb E_q\lVert z_\theta-\mathbf w_z\rVert^2$ (the
# stop-gradients change gradients, not values), so with $\alpha=\eta$ their sum is
# $\alpha\,\mathbb E_q\lVert z_\theta-\mathbf w_z\rVert^2$ with the gradient of that single expectation on both
# sides. The sweep (`variant(posterior="neural_gas", lam=3.0, beta=alpha)`) changes how strongly the encoder is
# pulled towards the codes relative to the reconstruction: look for the reconstruction error to rise with
# $\alpha$ (the encoder trades reconstruction for staying close to its codewords) and for the codebook use to
# change little, since the codebook side is driven by $\eta$ and the neural-gas posterior.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: fcm_original_longer
# manual: true
# points: 1

# %% [markdown]
# **Exercise 8 (eq. 5.6 for longer).** Train the `fcm_original` model for 40 epochs or with lr $10^{-2}$. Does the
# loss become non-finite? Plot `sum_w_m` and `z_norm2` and explain what you see.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer (what to look for).* Reuse the cell with `fcm_mass` (`epochs=40` or `lr=1e-2`); `train` raises
# `FloatingPointError` at the first non-finite loss and the cell reports the step. Whatever happens, read the two
# curves together: $\frac1N\sum_n\sum_z w_z^m$ is the factor by which both latent weights are actually scaled;
# it lies in $[K^{1-m},1]=[0.088, 1]$ and is near its lower end while the memberships are nearly uniform. When it
# is small, the encoder is almost free and $\lVert z_e\rVert^2$ can grow (the transient blow-up seen above); if the
# memberships sharpen, the effective weights grow by up to a factor $K^{m-1}\approx 11$ during training — the
# "chaotic" scaling of the thesis. A larger learning rate makes a large step during such a change more likely; a
# non-finite loss, if it happens, is that instability, not a bug in the posterior.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: dead_units
# manual: true
# points: 1

# %% [markdown]
# **Exercise 9 (dead units).** In section 2, change `spread` and the seed of the bad start. Is there a start from
# which neural gas leaves a dead unit? What does `lam_initial` have to be?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* Every batch neural-gas update is $\mathbf w_z=\sum_n h_\lambda(r_{nz})\mathbf x_n/\sum_n
# h_\lambda(r_{nz})$ with all weights positive, a convex combination of data points: after the first iteration
# every prototype is inside the convex hull of the data, however far it started, and with a large $\lambda$ it
# sits near the middle of the data; the annealing then spreads the prototypes out. So with the default
# $\lambda_i=K/2$ no `spread` or seed leaves a dead unit: we found none for `spread` 2, 4, 8 and seeds 0–4
# (k-means left 2–9 dead units on those starts). Dead units come back only when $\lambda_i$ is so small that the
# first steps are k-means steps: in the same grid (40 iterations, $\lambda_f=0.01$) $\lambda_i=0.1$ still left none,
# while $\lambda_i=0.03$ left up to 5 and $\lambda_i=0.01$ up to 7 — then a far prototype is pulled by weights
# $e^{-r/\lambda}$ that are vanishingly small.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# More to explore (no model answer): compare batch neural gas and fuzzy c-means on the `rings` toy set
# (`make_toy("rings", 500)`) at the same $K$; replace the rank weights $e^{-r/\lambda}$ by a Gibbs posterior in the
# distances (`vqlab.posteriors.gibbs_posterior`) and check which of the facts of §1 (scale invariance, the
# $\lambda\to0$ limit) still hold.
