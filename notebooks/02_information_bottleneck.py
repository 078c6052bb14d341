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
# # 02 · The information bottleneck behind VQ-VAE
#
# Wu & Flierl, *Variational Information Bottleneck on Vector Quantized Autoencoders*
# ([arXiv:1808.01048](https://arxiv.org/abs/1808.01048), equation numbers below are theirs) show
# that the VQ-VAE loss follows from the **variational deterministic information bottleneck** (VDIB), and
# that a VQ-VAE trained with soft **EM** assignments (Roy et al. 2018, [arXiv:1805.11063](https://arxiv.org/abs/1805.11063)) approximates the **variational
# information bottleneck** (VIB).
#
# ## What you will learn
# - the information bottleneck (IB) as a rate–distortion problem, and why its distortion is a KL divergence;
# - the derivation of the VIB and VDIB losses, **one step at a time, each step checked numerically** on a
#   small discrete problem (the checks are compared in CI: a wrong step fails the build);
# - why the VQ-VAE loss is the VDIB loss with a uniform prior (checked on a batch of digits);
# - why hard VQ has $H(p(Z|I)) = 0$ and what the soft EM quantizer changes (trained side by side on digits);
# - the temperature of the EM posterior *is* the VIB trade-off $\beta$: a rate–distortion picture, and a
#   slider to explore it.
#
# All information quantities are in **nats**.

# %%
import math

import matplotlib.pyplot as plt
import torch

import vqlab
from vqlab import losses as L
from vqlab.data import load_digits
from vqlab.models import build_vqvae
from vqlab.plotting import plot_rate_distortion, show_reconstructions
from vqlab.posteriors import gibbs_posterior
from vqlab.quantizers import EMQuantizer, VectorQuantizer
from vqlab.experiments import ib_comparison
from vqlab.widgets.ib import draw_ib_toy, ib_toy_state, ib_toy_widget

_ = vqlab.seed_everything(0)

# %% [markdown]
# ## 1 · The information bottleneck as rate–distortion
#
# The paper works in an unsupervised **clustering** setting. $I$ is the *index* of a data point, $\mathbf X$
# its features, $Z$ the index of a codeword and $\hat{\mathbf X}$ the reconstruction. The encoder only sees
# the data point, the decoder only sees the code:
#
# $$\mathbf X \leftrightarrow I \leftrightarrow Z \leftrightarrow \hat{\mathbf X} \qquad (1)$$
#
# i.e. $p(i, \mathbf x, z) = p(i, \mathbf x)\, p(z|i)$. The IB asks for the encoder $p(Z|I)$ that
# **compresses** $I$ as much as possible (small rate $I(I;Z)$) while keeping the distortion below $D$:
#
# $$\min_{p(Z|I):\ d_{\mathrm{IB}}(I,Z)\le D} I(I;Z) \qquad (2)
# \qquad\Longleftrightarrow\qquad
# L_{\mathrm{IB}} = d_{\mathrm{IB}}(I,Z) + \beta\, I(I;Z) \qquad (3)$$
#
# The IB distortion measures how much worse the code predicts the features than the data point itself:
#
# $$d_{\mathrm{IB}}(I,Z) = \mathrm{KL}\big(p(\mathbf X|I)\,\|\,p(\mathbf X|Z)\big)
# = \sum_i\sum_z p(i)p(z|i)\sum_{\mathbf x} p(\mathbf x|i)\log\frac{p(\mathbf x|i)}{p(\mathbf x|z)}. \qquad (4,5)$$
#
# To check each step of the derivation we build a small discrete problem: 6 data points, 5 feature values,
# 3 codes, a random joint $p(i, \mathbf x)$ and a random encoder $p(z|i)$ (float64, fixed seed).

# %%
gen = torch.Generator().manual_seed(0)
n_i, n_x, n_z = 6, 5, 3
p_ix = torch.rand(n_i, n_x, generator=gen, dtype=torch.float64) ** 2
p_ix = p_ix / p_ix.sum()                                     # p(i, x): [6, 5]
p_z_given_i = torch.rand(n_i, n_z, generator=gen, dtype=torch.float64) ** 2
p_z_given_i = p_z_given_i / p_z_given_i.sum(1, keepdim=True)  # encoder p(z | i): [6, 3]
p_i = p_ix.sum(1)
p_zx = p_z_given_i.t() @ p_ix                                # p(z, x) = sum_i p(i, x) p(z | i), eq. 1
print("p(i) =", [round(v, 4) for v in p_i.tolist()])
print("p(z) =", [round(v, 4) for v in p_zx.sum(1).tolist()])

# %% [markdown]
# ## 2 · The derivation, step by step
#
# ### Step 1: the distortion splits into two terms (eqs. 5–7)
#
# Writing $p(\mathbf x|z) = \frac{1}{p(z)}\sum_i p(\mathbf x|i)p(z|i)p(i)$ (eq. 7, the Markov chain),
#
# $$d_{\mathrm{IB}} = \underbrace{\sum_{\mathbf x,z} p(\mathbf x,z)\log\frac{p(z)}{p(\mathbf x,z)}}_{H(\mathbf X|Z)}
# \;-\; \underbrace{\sum_{i,\mathbf x} p(i,\mathbf x)\log\frac{p(i)}{p(i,\mathbf x)}}_{H(\mathbf X|I)} \qquad (6)$$
#
# The second term depends only on the data, so it is a constant for the minimisation. Equivalently
# $d_{\mathrm{IB}} = I(I;\mathbf X) - I(Z;\mathbf X) \ge 0$: the information about the features lost by
# replacing the data point with its code.

# %%
d_ib = L.ib_distortion(p_ix, p_z_given_i)                    # eq. 5
first, second = L.ib_distortion_terms(p_ix, p_z_given_i)     # eq. 6
print(f"eq. 5: d_IB = {d_ib:.6f}    eq. 6: first - second = {first - second:.6f}")
print("eq. 5 == eq. 6:", bool(abs(d_ib - (first - second)) < 1e-12))
print("d_IB == I(I;X) - I(Z;X):",
      bool(abs(d_ib - (L.mutual_information(p_ix) - L.mutual_information(p_zx))) < 1e-12))
other_encoder = torch.softmax(torch.randn(n_i, n_z, generator=gen, dtype=torch.float64), 1)
print("second term is the same for another encoder:",
      bool(abs(second - L.ib_distortion_terms(p_ix, other_encoder)[1]) < 1e-12))

# %% [markdown]
# ### Step 2: a decoder bounds the first term (eqs. 8–12)
#
# $p(\mathbf x|z)$ is intractable for real data, so it is replaced by a decoder $q(\hat{\mathbf x}|z)$.
# Because $\mathrm{KL}(p(\mathbf X|Z)\,\|\,q(\hat{\mathbf X}|Z)) \ge 0$ (eqs. 11–12),
#
# $$H(\mathbf X|Z) = -\sum_z p(z)\sum_{\mathbf x} p(\mathbf x|z)\log p(\mathbf x|z) \qquad (8)$$
# $$\le -\sum_z p(z)\sum_{\mathbf x} p(\mathbf x|z)\log q(\hat{\mathbf x}|z)
# = -\sum_{i,\mathbf x} p(i,\mathbf x)\sum_z p(z|i)\log q(\hat{\mathbf x}|z) \qquad (9, 10)$$
#
# The gap is exactly $\sum_z p(z)\,\mathrm{KL}(p(\mathbf X|z)\,\|\,q(\mathbf X|z))$, and the bound is tight
# when the decoder equals the true conditional. Eq. (10) is what a network can estimate: the expected
# negative log-likelihood of the data under the decoder, i.e. the reconstruction loss.

# %%
q_x_given_z = torch.softmax(torch.randn(n_z, n_x, generator=gen, dtype=torch.float64), 1)  # a random decoder
exact = L.decoder_entropy(p_ix, p_z_given_i)                 # eq. 8
bound = L.decoder_bound(p_ix, p_z_given_i, q_x_given_z)      # eqs. 9-10
p_z, p_x_given_z = L.x_given_z(p_ix, p_z_given_i)            # eq. 7
gap = (p_z * L.kl_divergence(p_x_given_z, q_x_given_z)).sum()
print(f"H(X|Z) = {exact:.6f}   bound = {bound:.6f}   gap = {bound - exact:.6f}")
print("eq. 8 == first term of eq. 6:", bool(abs(exact - first) < 1e-12))
print("bound >= H(X|Z):", bool(bound >= exact), "   gap == sum_z p(z) KL(p(X|z)||q(X|z)):",
      bool(abs(bound - exact - gap) < 1e-12))
print("tight when q = p(x|z):", bool(abs(L.decoder_bound(p_ix, p_z_given_i, p_x_given_z) - exact) < 1e-12))

# %% [markdown]
# ### Step 3: a prior bounds the rate (eqs. 13–17)
#
# The marginal $p(z)$ in $I(I;Z)$ is replaced by a prior $r(z)$. Since $\mathrm{KL}(p(Z)\,\|\,r(Z))\ge 0$
# (eqs. 16–17),
#
# $$I(I;Z) = \sum_{i,z} p(i)p(z|i)\log\frac{p(z|i)}{p(z)} \qquad (13)
# \;\le\; \sum_{i,z} p(i)p(z|i)\log\frac{p(z|i)}{r(z)} = \mathrm{KL}\big(p(Z|I)\,\|\,r(Z)\big) \qquad (14, 15)$$
#
# with gap $\mathrm{KL}(p(Z)\,\|\,r(Z))$, tight when $r$ is the true marginal.

# %%
r = torch.softmax(torch.randn(n_z, generator=gen, dtype=torch.float64), 0)   # a random prior r(Z)
rate = L.mutual_information_iz(p_z_given_i, p_i)            # eq. 13
rate_bound = L.kl_to_prior(p_z_given_i, r, p_i)              # eqs. 14-15
print(f"I(I;Z) = {rate:.6f}   KL(p(Z|I)||r) = {rate_bound:.6f}   gap = {rate_bound - rate:.6f}")
print("bound >= I(I;Z):", bool(rate_bound >= rate), "   gap == KL(p(Z)||r):",
      bool(abs(rate_bound - rate - L.kl_divergence(p_z, r)) < 1e-12))
print("tight when r = p(Z):", bool(abs(L.kl_to_prior(p_z_given_i, p_z, p_i) - rate) < 1e-12))

# %% [markdown]
# Putting eqs. (10) and (15) into (3) and dropping the constant $H(\mathbf X|I)$ gives the **VIB** loss
#
# $$L_{\mathrm{VIB}} = -\sum_{i,\mathbf x} p(i,\mathbf x)\sum_z p(z|i)\log q(\hat{\mathbf x}|z)
# \;+\; \beta\,\mathrm{KL}\big(p(Z|I)\,\|\,r(Z)\big). \qquad (18)$$
#
# ### Step 4: the deterministic IB bounds the entropy instead (eqs. 19–23)
#
# The DIB replaces the rate $I(I;Z)$ by the representational cost $H(Z)$. The same trick with a prior:
#
# $$H(Z) = -\sum_z p(z)\log p(z) \;\le\; -\sum_z p(z)\log r(z)
# = -\sum_{i,z} p(i)p(z|i)\log r(z) = H\big(p(Z|I), r(Z)\big) \qquad (19\text{–}22)$$
#
# $$L_{\mathrm{VDIB}} = -\sum_{i,\mathbf x} p(i,\mathbf x)\sum_z p(z|i)\log q(\hat{\mathbf x}|z)
# \;+\; \beta\,H\big(p(Z|I), r(Z)\big). \qquad (23)$$
#
# And the two regularisers differ by the conditional entropy (eq. 26):
# $\mathrm{KL}(p(Z|I)\,\|\,r(Z)) = H(p(Z|I), r(Z)) - H(p(Z|I))$. Finally, adding back the dropped constant,
# $L_{\mathrm{VIB}} - H(\mathbf X|I)$ upper-bounds the IB Lagrangian (3), with gap = decoder gap + $\beta\,\times$ rate gap.

# %%
h_z, ce = L.entropy(p_z), L.cross_entropy(p_z_given_i, r, p_i)          # eq. 19, eq. 22
print(f"H(Z) = {h_z:.6f}   H(p(Z|I), r) = {ce:.6f}")
print("bound >= H(Z):", bool(ce >= h_z),
      "   gap == KL(p(Z)||r):", bool(abs(ce - h_z - L.kl_divergence(p_z, r)) < 1e-12))
print("tight when r = p(Z):", bool(abs(L.cross_entropy(p_z_given_i, p_z, p_i) - h_z) < 1e-12))
h_cond = L.conditional_entropy(p_z_given_i, p_i)
print(f"eq. 26: KL = {rate_bound:.6f},  H(p(Z|I), r) - H(p(Z|I)) = {ce - h_cond:.6f},  equal:",
      bool(abs(rate_bound - (ce - h_cond)) < 1e-12))
beta = 0.5
l_vib = L.vib_loss(bound, p_z_given_i, beta, r, p_i)                    # eq. 18 with our decoder and prior
l_vdib = L.vdib_loss(bound, p_z_given_i, beta, r, p_i)                  # eq. 23
print("L_VIB == L_VDIB - beta H(p(Z|I)):", bool(abs(l_vib - (l_vdib - beta * h_cond)) < 1e-12))
l_ib = L.ib_lagrangian(d_ib, rate, beta)                                # eq. 3
print(f"L_IB = {l_ib:.6f} <= L_VIB - H(X|I) = {l_vib - second:.6f}:", bool(l_vib - second >= l_ib),
      "  gap == decoder gap + beta * rate gap:",
      bool(abs(l_vib - second - l_ib - ((bound - exact) + beta * (rate_bound - rate))) < 1e-12))

# %% [markdown]
# ## 3 · VQ-VAE is the VDIB with a uniform prior
#
# In a VQ-VAE the encoder network and the quantizer together give $p(z|i)$, and the decoder network gives
# $q(\hat{\mathbf x}|z)$. The VQ-VAE loss (eq. 24) is
#
# $$L_{\text{VQ-VAE}} = \frac1N\sum_{i=1}^N\Big[\underbrace{-\log q_\phi(\mathbf x_i|z_q(\mathbf x_i))}_{\text{recon}}
# + \beta_c\,\|z_e(\mathbf x_i) - \mathrm{sg}(z_q(\mathbf x_i))\|^2 + \|\mathrm{sg}(z_e(\mathbf x_i)) - z_q(\mathbf x_i)\|^2\Big]. \qquad (24)$$
#
# (We write $\beta_c$ for the commitment weight to keep it apart from the IB's $\beta$.) The VDIB
# regulariser in its empirical form (eq. 25; the paper prints it without the minus sign of eq. 22) is
#
# $$H(p(Z|I), r(Z)) = -\frac1N\sum_{i=1}^N\sum_{z=1}^K p(z|i)\log r(z) \;=\; \log K \quad\text{for } r(z) = 1/K,$$
#
# for **any** posterior, because $\sum_z p(z|i) = 1$. So with the conventional uniform prior,
# $L_{\mathrm{VDIB}} = \text{recon} + \beta\log K$: the regulariser is a constant and minimising the VDIB is
# minimising the distortion alone. The paper reads eq. 24's commitment and codebook terms as the way VQ-VAE
# minimises that distortion through the non-differentiable nearest-neighbour step; they are not part of
# eq. 23 itself. We check the identity on a real batch of digits, through vqlab's own quantizer (`probs`)
# and model (`losses["recon"]`, MSE: a Gaussian $-\log q$ up to scale and constants).

# %%
data = load_digits()
K, D = 32, 8
x_batch = data.x_train[:256]
for name, quantizer in [("hard VQ", VectorQuantizer(K, D, seed=0)),
                        ("EM", EMQuantizer(K, D, temperature=0.01, seed=0))]:
    model = build_vqvae(quantizer, hidden=(128,), seed=0).eval()
    with torch.no_grad():
        out = model(x_batch)
    probs = out.quant.probs
    vdib = L.vdib_loss(out.losses["recon"], probs, ib_weight=1.0)          # eq. 23, uniform r
    print(f"{name:8s} H(p(Z|I), r) == log K: {bool(abs(L.cross_entropy(probs) - math.log(K)) < 1e-5)}   "
          f"L_VDIB - log K == recon: {bool(abs(vdib - math.log(K) - out.losses['recon']) < 1e-5)}   "
          f"eq. 24 terms: {sorted(out.losses)}")

# %% [markdown]
# ## 4 · EM-trained VQ is (approximately) the VIB
#
# For the VIB (eq. 18) the regulariser is $\mathrm{KL}(p(Z|I)\,\|\,r) = \log K - H(p(Z|I))$ with a uniform prior:
# unlike the VDIB, it **rewards a high conditional entropy**. Hard VQ (eq. 27, the nearest codeword) has a
# one-hot posterior, so $H(p(Z|I)) = 0$ and the KL is stuck at $\log K$. The EM quantizer of Roy et al. uses a
# soft posterior (eq. 28), here with a temperature $\tau$:
#
# $$p(z|i) = \frac{\exp(-\|e_z - z_e(\mathbf x_i)\|^2/\tau)}{\sum_{j=1}^K\exp(-\|e_j - z_e(\mathbf x_i)\|^2/\tau)}. \qquad (28)$$
#
# **How $\tau$ relates to the IB's $\beta$.** Fix the codebook and measure the distortion in latent space,
# $d(i,z) = \|z_e(\mathbf x_i) - e_z\|^2$. Minimising $\;\mathbb E_{p}[d] + \beta\,\mathrm{KL}(p(Z|I)\,\|\,r)\;$
# over $p(z|i)$ (a Lagrange-multiplier calculation) gives $p(z|i)\propto r(z)\,e^{-d(i,z)/\beta}$: with the uniform
# prior this is eq. 28 with $\tau = \beta$. The paper's eq. 28 is the case $\beta = 1$; as $\tau\to 0$ the
# posterior becomes the hard assignment and the EM quantizer becomes the VQ-VAE's quantizer. Both claims are
# checked below (`vqlab.posteriors.gibbs_posterior` is the minimiser, `EMQuantizer` uses it).

# %%
d = torch.rand(50, 8, generator=gen, dtype=torch.float64) * 4         # d(i, z) for 50 points, 8 codes
beta = 0.3


def latent_vib(p):  # E_p[d] + beta KL(p(Z|I) || uniform), eq. 18 with a latent-space distortion
    return L.vib_loss((p * d).sum(1).mean(), p, beta)


best = gibbs_posterior(d, beta).exp()
others = [torch.softmax(best.log() + 0.5 * torch.randn(best.shape, generator=gen, dtype=torch.float64), 1)
          for _ in range(200)]
print("Gibbs posterior beats 200 random perturbations:", all(latent_vib(p) > latent_vib(best) for p in others))

z, codebook = torch.randn(500, D, generator=gen), torch.randn(K, D, generator=gen)
hard, em = VectorQuantizer(K, D), EMQuantizer(K, D, temperature=1e-6)
with torch.no_grad():
    hard.weight.copy_(codebook)
    em.weight.copy_(codebook)
a, b = hard(z), em(z)
print("tau -> 0: EM posterior == hard VQ one-hot:", torch.equal(a.probs, b.probs),
      "  same decoder input:", torch.allclose(a.z_q, b.z_q), "  H(p(Z|I)) =", L.conditional_entropy(b.probs).item())

# %% [markdown]
# Now train both on the digits, with one latent vector (one code) per image so that $I$ and $Z$ are exactly
# the paper's clustering setting: $K = 32$ codes of dimension 8, the same MLP encoder/decoder, k-means++
# codebook initialisation, 20 epochs of Adam (batch 128, learning rate 3e-3, as in notebook 01), 3 seeds.
# The EM quantizer uses $\tau = 0.01$ and feeds the decoder one
# sampled codeword ($m = 1$, thesis §5.1.3, straight-through), also at test time: its code is random.
# Reported on the test set: reconstruction MSE, the **perplexity** of the hard code usage (as in notebook
# 01), the codes used, $H(p(Z|I))$, the VIB rate bound $\mathrm{KL}(p(Z|I)\,\|\,\text{uniform})$ and the rate
# $I(I;Z)$ (with $p(i) = 1/N$ over test images; nats per image; at most $\log 32 = 3.466$).

# %%
# NBVAL_IGNORE_OUTPUT
TAU = 0.01
variants = {
    "hard VQ": lambda s: VectorQuantizer(K, D, init="kmeans++", seed=s),
    f"EM, tau={TAU}": lambda s: EMQuantizer(K, D, temperature=TAU, init="kmeans++", seed=s),
}
comparison = ib_comparison(variants, data.x_train, data.x_test, seeds=(0, 1, 2), epochs=20, batch_size=128, lr=3e-3)
print(comparison.table())

# %%
hard_h, em_h = (comparison.values[name]["conditional_entropy"] for name in variants)
bounds_hold = all(0 <= mi <= rb + 1e-9 and rb <= math.log(K) + 1e-9                 # eq. 14 and eq. 26
                  for v in comparison.values.values() for mi, rb in zip(v["mutual_information"], v["rate_bound"]))
print("H(p(Z|I)) = 0 for hard VQ and > 0 for EM, every seed:",
      all(h == 0.0 for h in hard_h) and all(h > 0 for h in em_h))                     # eq. 27 vs eq. 28
print("0 <= I(I;Z) <= rate bound <= log K, both variants, every seed:", bounds_hold)
assert all(h == 0.0 for h in hard_h) and all(h > 0 for h in em_h) and bounds_hold
(hard_ppl, _), (em_ppl, _) = (comparison.summary(name, "perplexity") for name in variants)
(hard_mse, _), (em_mse, _) = (comparison.summary(name, "recon") for name in variants)
(hard_used, _), (em_used, _) = (comparison.summary(name, "codes_used") for name in variants)
print("EM: higher perplexity and more codes used than hard VQ:", em_ppl > hard_ppl and em_used > hard_used)
print("recon MSE of the two within 25 %:", abs(em_mse - hard_mse) < 0.25 * hard_mse)
assert em_ppl > hard_ppl and em_used > hard_used and abs(em_mse - hard_mse) < 0.25 * hard_mse  # the text below

# %%
for name, (trial, *_) in comparison.trials.items():
    model = trial.model
    with torch.no_grad():
        show_reconstructions(data.x_test, model(data.x_test[:10]).x_hat, data.image_shape, title=f"{name} (seed 0)")
plt.show()

# %% [markdown]
# **Reading the table.** Hard VQ has $H(p(Z|I)) = 0$ by construction, so its VIB rate bound is exactly
# $\log K$; the EM posterior has a positive conditional entropy, so its bound is lower. The EM quantizer also
# used more of the codebook (a higher perplexity of the test-set code usage, fewer dead codes) at a similar
# reconstruction error (the cell asserts all three). The paper says that the experiments of Roy et al. suggest a
# higher codeword perplexity for EM-trained VQ-VAEs; on these small digits we measure the same direction. Two
# honest caveats: the *rate* $I(I;Z)$ itself (last column) need not drop for EM, because using more codes raises
# $H(Z)$ while the soft posterior lowers only the bound, by $H(p(Z|I))$; and better code usage is not unique to
# EM: notebook 01 shows other fixes for dead codes.

# %% [markdown]
# ## 5 · A rate–distortion picture
#
# Since $\tau$ plays the role of $\beta$ in eq. 18, sweeping it traces a rate–distortion curve: we train one
# EM model per temperature (seed 0) and plot the VIB rate bound (filled) and the rate $I(I;Z)$ (open) against
# the test reconstruction error, with hard VQ ($\tau\to 0$, 3-seed mean) as a square. The vertical segment is
# the bound's gap $\mathrm{KL}(p(Z)\,\|\,r)$ (eq. 16).

# %%
# NBVAL_IGNORE_OUTPUT
taus = (0.003, 0.01, 0.02, 0.04, 0.1)
sweep = ib_comparison({f"tau={t}": (lambda s, t=t: EMQuantizer(K, D, temperature=t, init="kmeans++", seed=s))
                       for t in taus}, data.x_train, data.x_test, seeds=(0,), epochs=20, batch_size=128, lr=3e-3)
print(sweep.table(metrics=("recon", "conditional_entropy", "rate_bound", "mutual_information"),
                  titles={"recon": "recon MSE", "conditional_entropy": "H(p(Z|I))", "rate_bound": "KL(p(Z|I)||r)",
                          "mutual_information": "I(I;Z)"}, digits={"recon": 4}))
plot_rate_distortion(sweep, reference=comparison.subset(["hard VQ"]))
plt.show()

# %%
rates = [sweep.summary(f"tau={t}", "rate_bound")[0] for t in taus]
cond_h = [sweep.summary(f"tau={t}", "conditional_entropy")[0] for t in taus]
mi_top = sweep.summary(f"tau={taus[-1]}", "mutual_information")[0]
monotone = all(a > b for a, b in zip(rates, rates[1:])) and all(a < b for a, b in zip(cond_h, cond_h[1:]))
print("raising tau lowers the rate bound and raises H(p(Z|I)) at every step:", monotone)
print(f"tau={taus[-1]}: I(I;Z) < 0.01 nats (the posterior ignores the input):", mi_top < 0.01)
assert monotone and mi_top < 0.01                            # a larger beta = tau buys a lower rate

# %% [markdown]
# Raising $\tau$ (= $\beta$) lowers the rate bound and raises the conditional entropy; the largest temperature
# gives a posterior that ignores the input ($I(I;Z) = 0$), whose reconstruction is the mean digit: the IB's
# trivial solution for a large $\beta$. Two things differ from a textbook rate–distortion curve and are worth
# noticing. First, the distortion need not be a monotone function of $\tau$ at the small end (compare the two
# smallest temperatures and hard VQ in the table): these are single training runs, and a slightly soft posterior
# can *help* optimisation, because more codes stay in use. Second, the network
# can partly undo the temperature by spreading its latents (only distances relative to $\tau$ matter; see
# exercise 6), so the trade-off is controlled by $\tau$ *together with* the commitment weight $\beta_c$.

# %% [markdown]
# ## 6 · Explore: temperature = $\beta$ on a 2-D toy codebook
#
# Here the data *are* the latents: 300 points of a 2-D toy set and a fixed k-means codebook of $K$ codewords.
# The heat map shows the entropy of the EM posterior $H(p(Z|x))$ at every location: zero deep inside a Voronoi
# cell, high near the boundaries, spreading out as $\tau$ grows. The right panel is the toy's rate–distortion
# curve over all temperatures: the VIB bound (red) above the rate $I(I;Z)$ (blue), the gap at the current
# $\tau$ in black, and hard VQ as the square at $\tau\to0$. The static figure below uses the default slider
# values; run the next cell for the sliders.

# %%
toy = ib_toy_state()
t = toy.terms
print(f"tau = {toy.tau:.3f}: H(p(Z|I)) = {t['conditional_entropy']:.3f}, rate bound = {t['rate_bound']:.3f}, "
      f"I(I;Z) = {t['mutual_information']:.3f}, gap = {t['gap']:.3f}")
print("eq. 26 on the toy:", abs(t["rate_bound"] - (math.log(len(toy.codebook)) - t["conditional_entropy"])) < 1e-10,
      "  gap == bound - I(I;Z):", abs(t["gap"] - (t["rate_bound"] - t["mutual_information"])) < 1e-10)
draw_ib_toy(toy)
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
ib_toy_widget()

# %% [markdown]
# ## Summary
#
# - The IB is a rate–distortion problem (eqs. 2–3) whose distortion is a KL divergence (eq. 4); it splits into
#   $H(\mathbf X|Z)$ minus a data constant (eq. 6).
# - A decoder $q(\hat{\mathbf x}|z)$ bounds $H(\mathbf X|Z)$ by the expected reconstruction loss (eqs. 9–10), a prior
#   $r(Z)$ bounds the rate $I(I;Z)$ by $\mathrm{KL}(p(Z|I)\,\|\,r)$ (eq. 15) and $H(Z)$ by the cross-entropy (eq. 22).
#   Every gap is a KL divergence, and every bound is tight at the true conditional/marginal: we checked each on a
#   random discrete problem.
# - With a uniform prior the VDIB regulariser is the constant $\log K$ for any posterior, so the VDIB loss is the
#   VQ-VAE's distortion (eq. 24), checked on digits.
# - The VIB regulariser is $\log K - H(p(Z|I))$ (eq. 26): hard VQ has $H(p(Z|I)) = 0$, the EM quantizer's soft
#   posterior (eq. 28) makes it positive. Its temperature is the VIB $\beta$ for a latent-space distortion; $\tau\to0$
#   is hard VQ.
# - On our digits (K = 32, 3 seeds) the EM quantizer at $\tau = 0.01$ had a positive $H(p(Z|I))$ and, in this run,
#   a higher code perplexity than hard VQ; raising $\tau$ traded rate for distortion.
#
# ## Exercises
#
# Exercises 1, 3 and 4 are checked: run each `grader.check(...)` cell (student version) to see whether your
# answer has the properties a correct one must have; the grader also runs hidden checks. Exercises 2, 5, 6 and
# 7 are written answers. The solution version of this notebook (the one in `notebooks/`) shows a model answer
# for each.

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 02_information_bottleneck
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
# name: vdib_regularizer
# points: 2

# %% [markdown]
# **Exercise 1 (the VDIB regulariser with any prior, eqs. 22 and 25).** Write `vdib_regularizer(probs, prior)`:
# for posteriors `probs [N, K]` (rows $p(z|i)$, data points weighted $p(i)=1/N$) and a prior `prior [K]`
# ($r(z) > 0$, summing to one), return the scalar cross-entropy
# $H(p(Z|I), r(Z)) = -\frac1N\sum_i\sum_z p(z|i)\log r(z)$, *with* the minus sign of eq. 22. Use torch
# operations only (not `L.cross_entropy`).

# %% [raw]
# # BEGIN SOLUTION

# %%
def vdib_regularizer(probs: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    # BEGIN SOLUTION
    return -(probs * prior.log()).sum(1).mean()
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_vdib_regularizer_uniform_prior_is_log_k(vdib_regularizer, torch, math):
    g = torch.Generator().manual_seed(21)
    probs = torch.softmax(3 * torch.randn(40, 7, generator=g, dtype=torch.float64), 1)
    uniform = torch.full((7,), 1 / 7, dtype=torch.float64)
    h = vdib_regularizer(probs, uniform)
    assert isinstance(h, torch.Tensor) and h.dim() == 0, "return a scalar tensor"
    assert abs(h.item() - math.log(7)) < 1e-10, "with r = 1/K the regulariser is log K for any posterior"
    one_hot = torch.eye(7, dtype=torch.float64)[torch.randint(7, (40,), generator=g)]
    assert abs(vdib_regularizer(one_hot, uniform).item() - math.log(7)) < 1e-10
test_vdib_regularizer_uniform_prior_is_log_k(vdib_regularizer, torch, math)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_vdib_regularizer_any_prior(vdib_regularizer, torch):
    from vqlab import losses as L
    g = torch.Generator().manual_seed(22)
    probs = torch.softmax(2 * torch.randn(30, 5, generator=g, dtype=torch.float64), 1)
    r = torch.softmax(torch.randn(5, generator=g, dtype=torch.float64), 0)
    h = vdib_regularizer(probs, r)
    assert torch.isclose(h, L.cross_entropy(probs, r)), "differs from eq. 22"
    assert torch.isclose(h, L.kl_to_prior(probs, r) + L.conditional_entropy(probs)), "eq. 26 fails"
    assert h >= L.entropy(L.marginal(probs)) - 1e-12, "eq. 20: it must upper-bound H(Z)"
test_vdib_regularizer_any_prior(vdib_regularizer, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: non_uniform_prior
# manual: true
# points: 1

# %% [markdown]
# **Exercise 2 (a non-uniform prior).** Replace the uniform $r$ in section 3 by the empirical code usage of the
# hard VQ model. Is $H(p(Z|I), r)$ still a constant? What does the VDIB regulariser now penalise?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* $H(p(Z|I), r) = -\sum_z \big(\frac1N\sum_i p(z|i)\big)\log r(z) = -\sum_z p(z)\log r(z)$
# depends on the posterior through its marginal $p(z)$, so it is no longer a constant: the step
# "$\sum_z p(z|i) = 1$" that made it $\log K$ needs $\log r(z)$ to be the same for every $z$. Each assignment
# to code $z$ now costs $-\log r(z)$ nats: frequently used codes are cheap, rarely used ones expensive, so the
# regulariser pushes the encoder towards the codes that are already popular (fewer codes, a lower $H(Z)$):
# the DIB's representational cost. For the hard VQ model itself, with $r$ its own usage, the bound is tight
# and equals $H(Z)$ (eq. 20, gap $\mathrm{KL}(p(Z)\,\|\,r) = 0$). With a gradient it would reinforce
# codebook collapse: a dead code has $r(z)\approx 0$ and an infinite cost.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: blahut_arimoto
# points: 2

# %% [markdown]
# **Exercise 3 (Blahut–Arimoto).** Write `blahut_arimoto(d, beta, steps)` for distortions `d [N, K]`: start
# from the uniform prior $r$ and repeat `steps` times: $p(z|i) \propto r(z)e^{-d(i,z)/\beta}$
# (`gibbs_posterior(d, beta, prior=r).exp()`), then $r \leftarrow p(Z)$ (`L.marginal(p)`). Return the pair
# `(p, r)` where `p` is the posterior for the **final** `r` (end with one more posterior step), so that the
# gap $\mathrm{KL}(p(Z)\,\|\,r)$ is not zero by construction. As `steps` grows, the gap should go to zero and
# the rate bound $\mathrm{KL}(p(Z|I)\,\|\,r)$ become the true rate $I(I;Z)$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def blahut_arimoto(d: torch.Tensor, beta: float, steps: int) -> tuple:
    # BEGIN SOLUTION
    r = torch.full((d.shape[1],), 1.0 / d.shape[1], dtype=d.dtype)
    for _ in range(steps):
        r = L.marginal(gibbs_posterior(d, beta, prior=r).exp())
    return gibbs_posterior(d, beta, prior=r).exp(), r
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_blahut_arimoto_returns_a_consistent_pair(blahut_arimoto, torch):
    from vqlab.posteriors import gibbs_posterior
    g = torch.Generator().manual_seed(31)
    d = torch.rand(25, 4, generator=g, dtype=torch.float64) * 3
    p, r = blahut_arimoto(d, 0.5, 5)
    assert p.shape == (25, 4) and r.shape == (4,)
    assert torch.allclose(p.sum(1), torch.ones(25, dtype=torch.float64)) and torch.isclose(r.sum(), r.new_tensor(1.0))
    assert torch.allclose(p, gibbs_posterior(d, 0.5, prior=r).exp()), "p must be the Gibbs posterior for the final r"
    p0, r0 = blahut_arimoto(d, 0.5, 0)
    assert torch.allclose(r0, torch.full((4,), 0.25, dtype=torch.float64)), "start from the uniform prior"
test_blahut_arimoto_returns_a_consistent_pair(blahut_arimoto, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_blahut_arimoto_closes_the_gap(blahut_arimoto, torch):
    from vqlab import losses as L
    from vqlab.posteriors import squared_distances
    g = torch.Generator().manual_seed(32)
    d = squared_distances(torch.randn(40, 2, generator=g, dtype=torch.float64),
                          torch.randn(6, 2, generator=g, dtype=torch.float64))
    gaps = []
    for steps in (1, 200):
        p, r = blahut_arimoto(d, 0.5, steps)
        gaps.append(L.kl_divergence(L.marginal(p), r).item())
        assert abs(L.kl_to_prior(p, r) - L.mutual_information_iz(p) - gaps[-1]) < 1e-10, "gap of eq. 16"
    assert gaps[0] > 1e-4 and gaps[1] < 1e-6 and gaps[1] < gaps[0] / 100, f"gap did not close: {gaps}"
    p1, r1 = blahut_arimoto(d, 0.5, 1)
    objective = lambda p, r: (p * d).sum(1).mean() + 0.5 * L.kl_to_prior(p, r)
    assert objective(p, r) <= objective(p1, r1) + 1e-12, "each step must not increase E[d] + beta KL"
test_blahut_arimoto_closes_the_gap(blahut_arimoto, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: em_posterior
# points: 2

# %% [markdown]
# **Exercise 4 (the EM posterior, eq. 28).** Write `em_posterior(z, codebook, tau)`: for latents `z [N, D]`, a
# codebook `[K, D]` and a temperature $\tau > 0$, return the `[N, K]` posterior
# $p(z|i) \propto \exp(-\lVert e_z - z_e(\mathbf x_i)\rVert^2/\tau)$, computed stably for small $\tau$ (no
# loops; do not call `gibbs_posterior` or `EMQuantizer`). Only distances relative to $\tau$ matter: scaling
# `z` and `codebook` by $c$ must give the posterior of temperature $\tau/c^2$ (a hidden check tests this;
# exercise 6 asks what it means for training).

# %% [raw]
# # BEGIN SOLUTION

# %%
def em_posterior(z: torch.Tensor, codebook: torch.Tensor, tau: float) -> torch.Tensor:
    # BEGIN SOLUTION
    return torch.softmax(-torch.cdist(z, codebook) ** 2 / tau, dim=1)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_em_posterior_normalised_and_hard_limit(em_posterior, torch):
    g = torch.Generator().manual_seed(41)
    z, w = torch.randn(60, 3, generator=g), torch.randn(9, 3, generator=g)
    p = em_posterior(z, w, 0.5)
    assert isinstance(p, torch.Tensor) and p.shape == (60, 9)
    assert (p >= 0).all() and torch.allclose(p.sum(1), torch.ones(60))
    hard = em_posterior(z, w, 1e-6)
    assert torch.isfinite(hard).all(), "not finite for a small tau"
    assert torch.equal(hard.argmax(1), torch.cdist(z, w).argmin(1)) and torch.allclose(hard.max(1).values, torch.ones(60))
test_em_posterior_normalised_and_hard_limit(em_posterior, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_em_posterior_is_gibbs_and_scale_covariant(em_posterior, torch):
    from vqlab.posteriors import gibbs_posterior, squared_distances
    g = torch.Generator().manual_seed(42)
    z, w = torch.randn(50, 4, generator=g, dtype=torch.float64), torch.randn(7, 4, generator=g, dtype=torch.float64)
    for tau in (0.1, 1.0, 5.0):
        assert torch.allclose(em_posterior(z, w, tau), gibbs_posterior(squared_distances(z, w), tau).exp(), atol=1e-6)
    assert torch.allclose(em_posterior(10 * z, 10 * w, 100 * 0.3), em_posterior(z, w, 0.3), atol=1e-6), \
        "scaling the latents by c must act like dividing tau by c^2"
test_em_posterior_is_gibbs_and_scale_covariant(em_posterior, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: more_samples
# manual: true
# points: 1

# %% [markdown]
# **Exercise 5 (more samples).** Train the EM model with `num_samples=3` and with `decoder_input="mean"`. How do
# the reconstruction error and $H(p(Z|I))$ change? (The thesis reports training with one to three samples
# "without problems".)

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* Measured once with the setting of section 4 ($K = 32$, $\tau = 0.01$, 20 epochs, seeds 0–2;
# test set, mean ± std over seeds): reconstruction MSE 0.045 ± 0.003 for $m = 1$, 0.047 ± 0.002 for $m = 3$ and
# 0.046 ± 0.003 for `decoder_input="mean"`; $H(p(Z|I))$ 0.160 ± 0.065, 0.197 ± 0.002 and 0.198 ± 0.067 nats. So
# training with three samples or with the posterior mean works "without problems", as the thesis says, and
# changes the reconstruction error by less than the seed-to-seed spread; the conditional entropy tends to end a
# little higher. The reason to expect that direction: with $m = 1$ a soft posterior means a *random* decoder
# input, and its sampling noise raises the reconstruction loss, so training is pushed to sharpen $p(z|i)$; averaging
# three samples (variance divided by 3) or the posterior mean (no sampling noise) makes a soft posterior cheaper.
# On these small digits the effect is within the noise of three seeds; a claim needs more seeds.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: temperature_scale
# manual: true
# points: 2

# %% [markdown]
# **Exercise 6 (temperature vs. scale).** $\tau$ is measured in squared-distance units. What happens to the
# trained $H(p(Z|I))$ if you multiply every latent by 10 (e.g. an extra `torch.nn.Linear` scaling the encoder
# output)? Why does $\tau = 1$ (the paper's eq. 28) give a collapsed code ($I(I;Z)\approx 0$) with our small
# latents?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* Eq. 28 depends on the latents only through $\lVert e_z - z_e\rVert^2/\tau$. Multiplying the
# latents (and, since the codebook follows them through the codebook loss, the codewords) by $c$ multiplies
# every squared distance by $c^2$, which is the same posterior as temperature $\tau/c^2$ (exercise 4 checks
# this): with $c = 10$ the effective temperature is $\tau/100$, so the posterior moves towards the hard
# assignment and $H(p(Z|I))$ drops towards 0. The network can do this scaling itself, which is why $\tau$ only
# sets the trade-off together with the commitment weight $\beta_c$, whose penalty $\beta_c\lVert z_e -
# \mathrm{sg}(z_q)\rVert^2$ grows by $c^2$ and resists it. Conversely, when the squared distances from a latent
# to *all* the codewords are much smaller than $\tau = 1$ (the case for latents of a small scale; look at
# `squared_distances` of a trained model's latents and codebook), $e^{-d/\tau}\approx 1 - d/\tau$ is nearly the
# same for every code: the posterior is close to uniform whatever the input, $p(z|i)\approx p(z)$, and
# $I(I;Z)\approx 0$: the IB's trivial solution for a large $\beta$ (section 5).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: sign_of_eq25
# manual: true
# points: 1

# %% [markdown]
# **Exercise 7 (the sign of eq. 25).** Show that without the minus sign eq. 25 would be negative, and so could not
# bound $H(Z)\ge0$.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* A prior has $0 < r(z) \le 1$, so $\log r(z) \le 0$, and $p(z|i)\ge 0$: every term of
# $\frac1N\sum_i\sum_z p(z|i)\log r(z)$ is $\le 0$, so the sum without the minus sign is $\le 0$, and $< 0$
# unless $r(z) = 1$ for every code the posterior uses (a single code, $H(Z) = 0$). For the uniform prior it is
# exactly $-\log K < 0$. But $H(Z) = -\sum_z p(z)\log p(z) \ge 0$, so a negative number cannot be an upper bound
# of it; with the minus sign the expression is the cross-entropy $H(p(Z|I), r) = H(Z) + \mathrm{KL}(p(Z)\,\|\,r)
# \ge H(Z)$ (eqs. 19–22), the bound the VDIB needs.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION
