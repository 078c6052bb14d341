"""Fuzz pass: public functions and constructors called with wrong types, wrong shapes, NaN/inf, empty
tensors and out-of-range numbers must raise a TypeError or ValueError whose message names the argument,
never a raw torch / numpy / scikit-learn error, a NaN result or a hang."""
import re
import signal

import pytest
import torch

from vqlab import clustering as C
from vqlab import course as CL
from vqlab import data as D
from vqlab import experiments as XP
from vqlab import hcvq as HC
from vqlab import losses as L
from vqlab import metrics as M
from vqlab import models as MD
from vqlab import posteriors as P
from vqlab import priors as PRI
from vqlab import quantizers as Q
from vqlab import zoo as Z
from vqlab.widgets import soft_vq as W03
from vqlab.widgets import gradients as GW
from vqlab.widgets import ib as IBW
from vqlab.widgets import prereq as PQ
from vqlab.widgets import priors as PRW
from vqlab.widgets import vq as VQW

t = torch.tensor
nan, inf = float("nan"), float("inf")
X = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
W = torch.randn(3, 2, generator=torch.Generator().manual_seed(1))
DIST = P.squared_distances(X, W)
PR = P.hard_posterior(DIST)
XN = X.clone()
XN[0, 0] = nan
XI = X.clone()
XI[1, 1] = inf
E0 = torch.zeros(0, 2)
IX = torch.full((2, 2), 0.25)
Y5 = t([0, 1, 0, 1, 0])

# (id, call, the exception expected, the argument its message must name)
CASES = [
    # posteriors
    ("sqd_list", lambda: P.squared_distances([[1.0]], W), TypeError, "z"),
    ("sqd_nan", lambda: P.squared_distances(XN, W), ValueError, "z"),
    ("sqd_cb_inf", lambda: P.squared_distances(X, XI), ValueError, "codebook"),
    ("sqd_dim", lambda: P.squared_distances(X, torch.randn(3, 4)), ValueError, "codebook"),
    ("sqd_1d", lambda: P.squared_distances(torch.randn(4), W), ValueError, "z"),
    ("sqd_empty", lambda: P.squared_distances(E0, W), ValueError, "z"),
    ("sqd_int", lambda: P.squared_distances(torch.ones(2, 2, dtype=torch.long), W), ValueError, "z"),
    ("pl_beta_neg", lambda: P.posterior_losses(X, W, PR, -1.0), ValueError, "beta"),
    ("pl_beta_nan", lambda: P.posterior_losses(X, W, PR, nan), ValueError, "beta"),
    ("pl_eta_str", lambda: P.posterior_losses(X, W, PR, 0.25, "x"), ValueError, "eta"),
    ("pl_probs_shape", lambda: P.posterior_losses(X, W, PR[:, :2], 0.25), ValueError, "probs"),
    ("ranks_list", lambda: P.distance_ranks([[1.0]]), TypeError, "dist"),
    ("ranks_neg", lambda: P.distance_ranks(-DIST), ValueError, "dist"),
    ("ranks_nan", lambda: P.distance_ranks(torch.full((2, 2), nan)), ValueError, "dist"),
    ("ranks_3d", lambda: P.distance_ranks(DIST[None]), ValueError, "dist"),
    ("hard_empty", lambda: P.hard_posterior(torch.zeros(2, 0)), ValueError, "dist"),
    ("hard_inf", lambda: P.hard_posterior(torch.full((2, 2), inf)), ValueError, "dist"),
    ("gibbs_temperature0", lambda: P.gibbs_posterior(DIST, 0.0), ValueError, "temperature"),
    ("gibbs_temperature_inf", lambda: P.gibbs_posterior(DIST, inf), ValueError, "temperature"),
    ("gibbs_nan", lambda: P.gibbs_posterior(torch.full((2, 3), nan), 1.0), ValueError, "distances"),
    ("gibbs_list", lambda: P.gibbs_posterior([1.0, 2.0], 1.0), TypeError, "distances"),
    ("gibbs_prior_shape", lambda: P.gibbs_posterior(DIST, 1.0, torch.ones(2) / 2), ValueError, "prior"),
    ("gibbs_prior_list", lambda: P.gibbs_posterior(DIST, 1.0, [0.5, 0.5, 0.0]), TypeError, "prior"),
    ("soft_norm", lambda: P.soft_vq_posterior(X, W, 0.0, "bad"), ValueError, "normalization"),
    ("soft_lv_nan", lambda: P.soft_vq_posterior(X, W, nan), ValueError, "log_var"),
    ("soft_lv_str", lambda: P.soft_vq_posterior(X, W, "a"), ValueError, "log_var"),
    ("soft_lv_tensor_nan", lambda: P.soft_vq_posterior(X, W, torch.full((3,), nan)), ValueError, "log_var"),
    ("soft_lv_shape", lambda: P.soft_vq_posterior(X, W, torch.zeros(4)), ValueError, "log_var"),
    ("soft_z_nan", lambda: P.soft_vq_posterior(XN, W, 0.0), ValueError, "z"),
    ("soft_z_list", lambda: P.soft_vq_posterior([[0.0, 1.0]], W, 0.0), TypeError, "z"),
    ("soft_cb_dim", lambda: P.soft_vq_posterior(X, torch.randn(3, 5), 0.0), ValueError, "codebook"),
    ("ng_lam0", lambda: P.neural_gas_posterior(DIST, 0.0), ValueError, "lam"),
    ("ng_lam_nan", lambda: P.neural_gas_posterior(DIST, nan), ValueError, "lam"),
    ("ng_dist_list", lambda: P.neural_gas_posterior([[1.0]], 1.0), TypeError, "dist"),
    ("fcm_m1", lambda: P.fuzzy_cmeans_posterior(DIST, 1.0), ValueError, "m"),
    ("fcm_m_inf", lambda: P.fuzzy_cmeans_posterior(DIST, inf), ValueError, "m"),
    ("fcm_norm_str", lambda: P.fuzzy_cmeans_posterior(DIST, 2.0, normalized="yes"), TypeError, "normalized"),
    ("fcm_dist_neg", lambda: P.fuzzy_cmeans_posterior(-DIST, 2.0), ValueError, "dist"),
    ("fcmw_m", lambda: P.fuzzy_cmeans_weights(DIST, 0.5), ValueError, "m"),
    ("fcmw_dist", lambda: P.fuzzy_cmeans_weights("d", 2.0), TypeError, "dist"),
    ("pw_name", lambda: P.posterior_weights(DIST, "kmeans"), ValueError, "posterior"),
    ("pw_m", lambda: P.posterior_weights(DIST, "fcm_original", m=1.0), ValueError, "m"),
    ("pw_lam", lambda: P.posterior_weights(DIST, "neural_gas", lam=-1), ValueError, "lam"),
    ("pw_dist_nan", lambda: P.posterior_weights(torch.full((2, 2), nan), "hard"), ValueError, "dist"),
    ("ngl_step", lambda: P.neural_gas_lambda(-1, 1.0, 0.1, 10), ValueError, "step"),
    ("ngl_step_float", lambda: P.neural_gas_lambda(1.5, 1.0, 0.1, 10), ValueError, "step"),
    ("ngl_lami", lambda: P.neural_gas_lambda(1, 0.0, 0.1, 10), ValueError, "lam_initial"),
    ("ngl_lamf", lambda: P.neural_gas_lambda(1, 1.0, inf, 10), ValueError, "lam_final"),
    ("ngl_tmax", lambda: P.neural_gas_lambda(1, 1.0, 0.1, 0), ValueError, "t_max"),
    # quantizers
    ("vq_k0", lambda: Q.VectorQuantizer(0, 2), ValueError, "num_codes"),
    ("vq_k_float", lambda: Q.VectorQuantizer(2.0, 2), ValueError, "num_codes"),
    ("vq_d_str", lambda: Q.VectorQuantizer(2, "2"), ValueError, "code_dim"),
    ("vq_beta", lambda: Q.VectorQuantizer(2, 2, beta=-0.1), ValueError, "beta"),
    ("vq_update", lambda: Q.VectorQuantizer(2, 2, codebook_update="adam"), ValueError, "codebook_update"),
    ("vq_decay", lambda: Q.VectorQuantizer(2, 2, decay=1.0), ValueError, "decay"),
    ("vq_decay_nan", lambda: Q.VectorQuantizer(2, 2, decay=nan), ValueError, "decay"),
    ("vq_eps", lambda: Q.VectorQuantizer(2, 2, epsilon=0.0), ValueError, "epsilon"),
    ("vq_init", lambda: Q.VectorQuantizer(2, 2, init="random"), ValueError, "init"),
    ("vq_restart", lambda: Q.VectorQuantizer(2, 2, restart_after=0), ValueError, "restart_after"),
    ("vq_seed", lambda: Q.VectorQuantizer(2, 2, seed=-1), ValueError, "seed"),
    ("vq_fwd_dim", lambda: Q.VectorQuantizer(3, 2)(torch.randn(4, 3)), ValueError, "z_e"),
    ("vq_fwd_nan", lambda: Q.VectorQuantizer(3, 2)(XN), ValueError, "z_e"),
    ("vq_fwd_empty", lambda: Q.VectorQuantizer(3, 2)(E0), ValueError, "z_e"),
    ("vq_fwd_list", lambda: Q.VectorQuantizer(3, 2)([[1.0, 2.0]]), TypeError, "z_e"),
    ("vq_fwd_int", lambda: Q.VectorQuantizer(3, 2)(torch.ones(2, 2, dtype=torch.long)), ValueError, "z_e"),
    ("em_temp0", lambda: Q.EMQuantizer(2, 2, temperature=0.0), ValueError, "temperature"),
    ("em_temp_inf", lambda: Q.EMQuantizer(2, 2, temperature=inf), ValueError, "temperature"),
    ("em_loglik_dim", lambda: Q.EMQuantizer(2, 2).log_likelihood(torch.zeros(3, 5)), ValueError, "z"),
    ("em_samples", lambda: Q.EMQuantizer(2, 2, num_samples=0), ValueError, "num_samples"),
    ("em_input", lambda: Q.EMQuantizer(2, 2, decoder_input="mode"), ValueError, "decoder_input"),
    ("em_fwd_inf", lambda: Q.EMQuantizer(3, 2)(XI), ValueError, "z_e"),
    ("soft_noise", lambda: Q.SoftVectorQuantizer(2, 2, noise_std=-1.0), ValueError, "noise_std"),
    ("soft_st", lambda: Q.SoftVectorQuantizer(2, 2, straight_through=1), TypeError, "straight_through"),
    ("soft_norm_q", lambda: Q.SoftVectorQuantizer(2, 2, normalization="x"), ValueError, "normalization"),
    ("soft_ilv", lambda: Q.SoftVectorQuantizer(2, 2, init_log_var=nan), ValueError, "init_log_var"),
    ("soft_update", lambda: Q.SoftVectorQuantizer(2, 2, codebook_update="ema"), ValueError, "codebook_update"),
    ("soft_fwd_lv_shape", lambda: Q.SoftVectorQuantizer(3, 2)(X, log_var=torch.zeros(5, 4)), ValueError, "log_var"),
    ("soft_fwd_lv_lead", lambda: Q.SoftVectorQuantizer(3, 2)(X, log_var=torch.zeros(4, 3)), ValueError, "log_var"),
    ("soft_fwd_lv_nan", lambda: Q.SoftVectorQuantizer(3, 2)(X, log_var=torch.full((5, 3), nan)), ValueError, "log_var"),
    ("soft_fwd_nan", lambda: Q.SoftVectorQuantizer(3, 2)(XN), ValueError, "z_e"),
    ("pq_post", lambda: Q.PosteriorQuantizer(2, 2, posterior="soft"), ValueError, "posterior"),
    ("pq_lam", lambda: Q.PosteriorQuantizer(2, 2, lam=0), ValueError, "lam"),
    ("pq_m", lambda: Q.PosteriorQuantizer(2, 2, m=1), ValueError, "m"),
    ("pq_eta", lambda: Q.PosteriorQuantizer(2, 2, eta=-1), ValueError, "eta"),
    ("pq_lam_final_only", lambda: Q.PosteriorQuantizer(2, 2, lam_final=0.1), ValueError, "lam_steps"),
    ("pq_lam_steps", lambda: Q.PosteriorQuantizer(2, 2, lam_final=0.1, lam_steps=0), ValueError, "lam_steps"),
    ("pq_lam_final", lambda: Q.PosteriorQuantizer(2, 2, lam_final=-0.1, lam_steps=3), ValueError, "lam_final"),
    ("pq_fwd_shape", lambda: Q.PosteriorQuantizer(3, 2)(torch.randn(2, 5)), ValueError, "z_e"),
    # losses
    ("cp_list", lambda: L.check_probs("p", [0.5, 0.5]), TypeError, "p"),
    ("cp_neg", lambda: L.check_probs("p", t([1.5, -0.5])), ValueError, "p"),
    ("cp_sum", lambda: L.check_probs("p", t([0.5, 0.6])), ValueError, "p"),
    ("cp_nan", lambda: L.check_probs("p", t([nan, 1.0])), ValueError, "p"),
    ("cp_dim", lambda: L.check_probs("p", t([0.5, 0.5]), dim=3), ValueError, "dim"),
    ("ent_empty", lambda: L.entropy(torch.zeros(0)), ValueError, "p"),
    ("ent_dim", lambda: L.entropy(t([0.5, 0.5]), dim="x"), (TypeError, ValueError), "dim"),
    ("kl_shape", lambda: L.kl_divergence(t([0.5, 0.5]), t([0.2, 0.3, 0.5])), ValueError, "q"),
    ("kl_support", lambda: L.kl_divergence(t([0.5, 0.5]), t([1.0, 0.0])), ValueError, "q"),
    ("mi_1d", lambda: L.mutual_information(t([0.5, 0.5])), ValueError, "joint"),
    ("mi_nan", lambda: L.mutual_information(torch.full((2, 2), nan)), ValueError, "joint"),
    ("marg_weights_len", lambda: L.marginal(PR, torch.ones(3) / 3), ValueError, "weights"),
    ("marg_weights_list", lambda: L.marginal(PR, [0.2] * 5), TypeError, "weights"),
    ("ce_prior_shape", lambda: L.cross_entropy(PR, torch.ones(2) / 2), ValueError, "prior"),
    ("ce_prior_zero", lambda: L.cross_entropy(t([[1.0, 0.0]]), t([0.0, 1.0])), ValueError, "prior"),
    ("ce_probs_bad", lambda: L.cross_entropy(t([[0.2, 0.2]])), ValueError, "probs"),
    ("kl_prior_nan", lambda: L.kl_to_prior(PR, torch.full((3,), nan)), ValueError, "prior"),
    ("ce_empty", lambda: L.conditional_entropy(torch.zeros(0, 3)), ValueError, "probs"),
    ("miz_list", lambda: L.mutual_information_iz([[1.0]]), TypeError, "probs"),
    ("ibl_ib_weight", lambda: L.ib_lagrangian(1.0, 1.0, -1.0), ValueError, "ib_weight"),
    ("ibl_dist_nan", lambda: L.ib_lagrangian(nan, 1.0, 1.0), ValueError, "distortion"),
    ("ibl_rate_str", lambda: L.ib_lagrangian(1.0, "r", 1.0), (TypeError, ValueError), "rate"),
    ("vib_ib_weight", lambda: L.vib_loss(t(1.0), PR, nan), ValueError, "ib_weight"),
    ("vib_dist_str", lambda: L.vib_loss("d", PR, 1.0), (TypeError, ValueError), "distortion"),
    ("vib_dist_nan", lambda: L.vib_loss(t(nan), PR, 1.0), ValueError, "distortion"),
    ("vdib_probs", lambda: L.vdib_loss(t(1.0), PR * 3, 1.0), ValueError, "probs"),
    ("xgz_shape", lambda: L.x_given_z(IX, torch.ones(3, 2) / 2), ValueError, "q_k_given_j"),
    ("xgz_list", lambda: L.x_given_z([[0.25, 0.25], [0.25, 0.25]], torch.ones(2, 2) / 2), TypeError, "p_jx"),
    ("ibd_bad", lambda: L.ib_distortion(IX * 2, torch.ones(2, 2) / 2), ValueError, "p_jx"),
    ("ibdt_1d", lambda: L.ib_distortion_terms(torch.ones(4) / 4, torch.ones(2, 2) / 2), ValueError, "p_jx"),
    ("dent_nan", lambda: L.decoder_entropy(IX, torch.full((2, 2), nan)), ValueError, "q_k_given_j"),
    ("db_shape", lambda: L.decoder_bound(IX, torch.ones(2, 2) / 2, torch.ones(3, 2) / 2), ValueError, "decoder"),
    ("logk_0", lambda: L.log_k(0), ValueError, "num_codes"),
    ("logk_float", lambda: L.log_k(2.5), ValueError, "num_codes"),
    ("logk_str", lambda: L.log_k("3"), ValueError, "num_codes"),
    # metrics
    ("ppl_list", lambda: M.perplexity([0.5, 0.5]), TypeError, "probs"),
    ("ppl_nan", lambda: M.perplexity(t([nan, 1.0])), ValueError, "probs"),
    ("ppl_inf", lambda: M.perplexity(t([inf, 1.0])), ValueError, "probs"),
    ("ppl_empty", lambda: M.perplexity(torch.zeros(0)), ValueError, "probs"),
    ("ppl_empty2", lambda: M.perplexity(torch.zeros(0, 3)), ValueError, "probs"),
    ("ppl_neg", lambda: M.perplexity(t([-1.0, 2.0])), ValueError, "probs"),
    ("usage_k0", lambda: M.code_usage(t([0, 1]), 0), ValueError, "num_codes"),
    ("usage_k_float", lambda: M.code_usage(t([0, 1]), 2.5), ValueError, "num_codes"),
    ("usage_range", lambda: M.code_usage(t([0, 5]), 3), ValueError, "indices"),
    ("usage_float_idx", lambda: M.code_usage(t([0.5, 1.7]), 3), TypeError, "indices"),
    ("usage_list", lambda: M.code_usage([0, 1], 3), TypeError, "indices"),
    ("used_neg", lambda: M.codes_used(t([-1, 0]), 3), ValueError, "indices"),
    ("acc_len", lambda: M.cluster_accuracy([0, 1], [0]), ValueError, "y_pred"),
    ("acc_2d", lambda: M.cluster_accuracy([[0, 1]], [[0, 1]]), ValueError, "y_true"),
    ("acc_empty", lambda: M.cluster_accuracy([], []), ValueError, "y_true"),
    ("nmi_2d", lambda: M.nmi([[0]], [0]), ValueError, "y_true"),
    ("nmi_len", lambda: M.nmi([0, 1, 1], [0, 1]), ValueError, "y_pred"),
    ("probe_iter", lambda: M.linear_probe(X, Y5, X, Y5, max_iter=0), ValueError, "max_iter"),
    ("probe_nan", lambda: M.linear_probe(XN, Y5, X, Y5), ValueError, "z_train"),
    ("probe_len", lambda: M.linear_probe(X, t([0, 1]), X, Y5), ValueError, "y_train"),
    ("km_nan", lambda: M.kmeans_scores(XN, Y5, n_init=1), ValueError, "z"),
    ("km_k", lambda: M.kmeans_scores(X, Y5, n_clusters=0, n_init=1), ValueError, "n_clusters"),
    ("km_ninit", lambda: M.kmeans_scores(X, Y5, n_init=0), ValueError, "n_init"),
    ("km_len", lambda: M.kmeans_scores(X, t([0, 1]), n_init=1), ValueError, "y"),
    ("ds_nan", lambda: M.downstream_scores(X, Y5, XI, Y5, n_init=1), ValueError, "z_test"),
    ("sq_1d", lambda: M.sample_quality(t([0.5, 0.5])), ValueError, "probs"),
    ("sq_nan", lambda: M.sample_quality(t([[nan, 1.0]])), ValueError, "probs"),
    ("sq_images_only", lambda: M.sample_quality(t([[0.5, 0.5]]), images=torch.zeros(1, 4)), ValueError, "reference"),
    ("sq_pixels", lambda: M.sample_quality(t([[0.5, 0.5]]), torch.zeros(1, 4), torch.zeros(3, 5)), ValueError, "reference"),
    ("sq_images_count", lambda: M.sample_quality(t([[0.5, 0.5]]), torch.zeros(2, 4), torch.zeros(3, 4)), ValueError, "images"),
    ("sq_images_nan", lambda: M.sample_quality(t([[0.5, 0.5]]), torch.full((1, 4), nan), torch.zeros(3, 4)), ValueError, "images"),
    # data
    ("digits_frac", lambda: D.load_digits(test_fraction=1.5), ValueError, "test_fraction"),
    ("digits_frac_nan", lambda: D.load_digits(test_fraction=nan), ValueError, "test_fraction"),
    ("digits_seed", lambda: D.load_digits(seed="a"), (TypeError, ValueError), "seed"),
    ("toy_name", lambda: D.make_toy("spiral"), ValueError, "name"),
    ("toy_n", lambda: D.make_toy(n=1), ValueError, "n"),
    ("toy_n_float", lambda: D.make_toy(n=10.5), ValueError, "n"),
    ("toy_noise_nan", lambda: D.make_toy(noise=nan), ValueError, "noise"),
    ("toy_seed", lambda: D.make_toy(seed=-1), ValueError, "seed"),
    ("toy_seed_str", lambda: D.make_toy(seed="x"), (TypeError, ValueError), "seed"),
    ("idx_type", lambda: D.read_idx(3), TypeError, "path"),
    ("idx_missing", lambda: D.read_idx("/nonexistent/file.idx"), FileNotFoundError, "file.idx"),
    ("mnist_verify", lambda: D.load_mnist("/nonexistent", verify="no"), TypeError, "verify"),
    ("mnist_download", lambda: D.load_mnist("/nonexistent", download="yes"), TypeError, "download"),
    ("mnist_mirror_type", lambda: D.load_mnist("/nonexistent", download=True, mirror=3), TypeError, "mirror"),
    ("mnist_mirror_http", lambda: D.load_mnist("/nonexistent", download=True, mirror="http://example.org/"), ValueError, "url"),
    ("mnist_root_type", lambda: D.load_mnist(3), TypeError, "root"),
    # clustering
    ("kpp_list", lambda: C.kmeans_plusplus([[1.0]], 2), TypeError, "x"),
    ("kpp_k0", lambda: C.kmeans_plusplus(X, 0), ValueError, "k"),
    ("kpp_k_float", lambda: C.kmeans_plusplus(X, 2.5), ValueError, "k"),
    ("kpp_empty", lambda: C.kmeans_plusplus(E0, 2), ValueError, "x"),
    ("kpp_nan", lambda: C.kmeans_plusplus(XN, 2), ValueError, "x"),
    ("kpp_gen", lambda: C.kmeans_plusplus(X, 2, generator=3), TypeError, "generator"),
    ("init_method", lambda: C.init_prototypes(X, 2, method="random"), ValueError, "method"),
    ("init_k", lambda: C.init_prototypes(X, 0), ValueError, "num_codes"),
    ("init_k_big", lambda: C.init_prototypes(X, 9), ValueError, "num_codes"),
    ("init_spread", lambda: C.init_prototypes(X, 2, method="box", spread=0.0), ValueError, "spread"),
    ("init_seed", lambda: C.init_prototypes(X, 2, seed=-3), ValueError, "seed"),
    ("init_nan", lambda: C.init_prototypes(XN, 2), ValueError, "x"),
    ("bu_shape", lambda: C.batch_update(X, torch.ones(4, 3), W), ValueError, "weights"),
    ("bu_neg", lambda: C.batch_update(X, -torch.ones(5, 3), W), ValueError, "weights"),
    ("bu_proto_shape", lambda: C.batch_update(X, torch.ones(5, 3), torch.randn(2, 2)), ValueError, "prototypes"),
    ("bu_nan", lambda: C.batch_update(XN, torch.ones(5, 3), W), ValueError, "x"),
    ("vqd_dim", lambda: C.vq_distortion(X, torch.randn(3, 4)), ValueError, "codebook"),
    ("vqd_nan", lambda: C.vq_distortion(XN, W), ValueError, "z"),
    ("vqd_list", lambda: C.vq_distortion([[1.0, 2.0]], W), TypeError, "z"),
    ("dead_dim", lambda: C.dead_units(X, torch.randn(3, 4)), ValueError, "prototypes"),
    ("dead_nan", lambda: C.dead_units(X, torch.full((3, 2), nan)), ValueError, "prototypes"),
    ("km_iter", lambda: C.kmeans(X, W, iterations=-1), ValueError, "iterations"),
    ("km_init_dim", lambda: C.kmeans(X, torch.randn(3, 4)), ValueError, "init"),
    ("km_x_empty", lambda: C.kmeans(E0, W), ValueError, "x"),
    ("ng_iter", lambda: C.neural_gas(X, W, iterations=0), ValueError, "iterations"),
    ("ng_lami", lambda: C.neural_gas(X, W, lam_initial=0.0), ValueError, "lam_initial"),
    ("ng_lamf", lambda: C.neural_gas(X, W, lam_final=nan), ValueError, "lam_final"),
    ("ng_init_list", lambda: C.neural_gas(X, [[0.0, 0.0]]), TypeError, "init"),
    ("fcm_m_c", lambda: C.fuzzy_cmeans(X, W, m=1.0), ValueError, "m"),
    ("fcm_iter_float", lambda: C.fuzzy_cmeans(X, W, iterations=2.5), ValueError, "iterations"),
    ("fcm_init_nan", lambda: C.fuzzy_cmeans(X, torch.full((3, 2), nan)), ValueError, "init"),
    # notebook 08: the scoreboard, build_vqvae's variance_head, compare's timing
    ("sb_name", lambda: XP.scoreboard_trial("VQ", 0), ValueError, "name"),
    ("sb_seed", lambda: XP.scoreboard_trial("plain", -1), ValueError, "seed"),
    ("sb_levels", lambda: XP.scoreboard_trial("FSQ", 0, fsq_levels=(4, 4)), ValueError, "fsq_levels"),
    ("sb_names", lambda: XP.scoreboard(torch.rand(4, 1, 8, 8), torch.rand(2, 1, 8, 8), names=("x",)),
     ValueError, "names"),
    ("sb_x_flat", lambda: XP.scoreboard(torch.rand(4, 64), torch.rand(2, 64)), ValueError, "x_train"),
    ("mdm_x_test", lambda: XP.mean_digit_mse(torch.rand(4, 64), [0.0]), TypeError, "x_test"),
    ("ab_comparison", lambda: XP.at_baseline({"a": {"recon": [0.1]}}, 0.1), TypeError, "comparison"),
    ("ab_baseline_nan", lambda: XP.at_baseline(XP.Comparison({"a": {"recon": [0.1]}}, (0,)), nan), ValueError,
     "baseline"),
    ("ab_metric", lambda: XP.at_baseline(XP.Comparison({"a": {"recon": [0.1]}}, (0,)), 0.1, metric="mse"),
     ValueError, "metric"),
    ("uc_metric", lambda: XP.usage_curves(XP.Comparison({}, (0,)), metric="loss"), ValueError, "metric"),
    ("vqvae_head", lambda: MD.build_vqvae(Q.VectorQuantizer(4, 2), variance_head=1), TypeError, "variance_head"),
    ("cmp_timing", lambda: XP.compare({"a": lambda s: None}, X, X, timing="yes"), TypeError, "timing"),
    # notebook 03: the zoo's checkpoints and run record, the mixture picture
    ("zoo_ckpt_budget", lambda: Z.compare_bottlenecks(D.load_digits(), [0], ["ae"], Z.ZooConfig(epochs=1),
                                                      checkpoints=[11]), ValueError, "checkpoints"),
    ("zoo_ckpt_zero", lambda: Z.compare_bottlenecks(D.load_digits(), [0], ["ae"], checkpoints=[0]), ValueError,
     "checkpoints"),
    ("zoo_meta_seconds", lambda: Z.run_meta(-1.0, "python -m vqlab.zoo"), ValueError, "seconds"),
    ("mix_widths_len", lambda: W03.mixture_state(widths=(0.3,)), ValueError, "widths"),
    ("mix_widths_neg", lambda: W03.mixture_state(widths=(0.3, -0.1, 0.3, 0.3, 0.3, 0.3)), ValueError, "widths"),
    ("mix_arrows", lambda: W03.mixture_state(arrows=1), ValueError, "arrows"),
    # HC-VQ entropies (notebook 06)
    ("value_entropy_list", lambda: HC.value_entropy([1.0, 2.0]), TypeError, "x"),
    ("value_entropy_nan", lambda: HC.value_entropy(XN), ValueError, "x"),
    ("value_entropy_empty", lambda: HC.value_entropy(E0), ValueError, "x"),
    ("hcvq_target_n1_neg", lambda: HC.HCVQRegularizer(target_n1=-1.0), ValueError, "target_n1"),
    ("hcvq_mode_bad", lambda: HC.HCVQRegularizer(mode="paper mode"), ValueError, "mode"),
    ("ct_model", lambda: XP.codeword_travel(MD.Autoencoder(torch.nn.Identity(), torch.nn.Identity())), TypeError,
     "trial"),
    ("lts_codes", lambda: VQW.latent_terms_state(num_codes=0), ValueError, "num_codes"),
    ("lts_beta_nan", lambda: VQW.latent_terms_state(beta=nan), ValueError, "beta"),
    ("lts_n", lambda: VQW.latent_terms_state(n=1), ValueError, "n"),
    ("dlt_terms", lambda: VQW.draw_latent_terms(VQW.latent_terms_state(n=10), terms=("recon",)), ValueError, "terms"),
    ("gkl_var", lambda: PQ.gaussian_kl(0.0, 0.0, 0.0, 1.0), ValueError, "var_q"),
    ("gkl_mean_nan", lambda: PQ.gaussian_kl(0.0, 1.0, nan, 1.0), ValueError, "mean_p"),
    ("lgp_s", lambda: PQ.linear_gaussian_posterior(1.0, 1.0, -0.5), ValueError, "s"),
    ("lgp_x_str", lambda: PQ.linear_gaussian_posterior("one", 1.0, 0.5), ValueError, "x"),
    ("ems_tau", lambda: IBW.em_steps_state(tau=-1.0), ValueError, "tau"),
    ("ems_steps_float", lambda: IBW.em_steps_state(steps=2.5), ValueError, "steps"),
    ("lge_var", lambda: PQ.linear_gaussian_elbo(1.0, 0.0, -1.0, 1.0, 0.5), ValueError, "var"),
    ("st_steps", lambda: PQ.straight_through_state(steps=0), ValueError, "steps"),
    ("info_points", lambda: PQ.information_state(num_points=0), ValueError, "num_points"),
    ("grid_posterior", lambda: XP.start_grid(["kmeans"], ["U(1/K)"]), ValueError, "posteriors"),
    ("grid_start", lambda: XP.start_grid(["vanilla"], ["uniform"]), ValueError, "starts"),
    ("grid_empty", lambda: XP.start_grid([], ["U(1/K)"]), ValueError, "posteriors"),
    # notebook 07: seeded priors, stage 1, the code-map picture
    ("made_seed", lambda: PRI.MADE(4, (2, 2), hidden=(4,), seed=-1), ValueError, "seed"),
    ("pixelcnn_seed_float", lambda: PRI.PixelCNN(4, (2, 2), channels=4, seed=1.5), ValueError, "seed"),
    ("stage_one_flat", lambda: XP.stage_one(torch.rand(4, 64), torch.rand(2, 1, 8, 8)), ValueError, "x_train"),
    ("stage_one_test_nan", lambda: XP.stage_one(torch.rand(4, 1, 8, 8), torch.full((2, 1, 8, 8), nan)), ValueError,
     "x_test"),
    ("stage_one_seed", lambda: XP.stage_one(torch.rand(4, 1, 8, 8), torch.rand(2, 1, 8, 8), seed=-1), ValueError,
     "seed"),
    ("dcm_position", lambda: PRW.draw_code_map(torch.zeros(2, 2, dtype=torch.long), position=4), ValueError,
     "position"),
    ("dcm_order", lambda: PRW.draw_code_map(torch.zeros(2, 2, dtype=torch.long), 0, order=[0, 0, 1, 2]), ValueError,
     "order"),
    ("dcm_float", lambda: PRW.draw_code_map(torch.zeros(2, 2), position=0), ValueError, "code_map"),
    # issue 28: trials on an executor, data-parallel training
    ("cmp_executor", lambda: XP.compare({"a": lambda s: None}, X, X, executor=4), TypeError, "executor"),
    ("dask_neither", lambda: XP.dask_executor().__enter__(), ValueError, "workers"),
    ("dask_both", lambda: XP.dask_executor(workers=2, scheduler="tcp://x:1").__enter__(), ValueError, "scheduler"),
    ("dask_workers", lambda: XP.dask_executor(workers=0).__enter__(), ValueError, "workers"),
    # issue 27: the new quantizers, notebook 08's frontier rows and large codebook, notebook 09
    ("simvq_codes", lambda: Q.SimVQuantizer(0, 3), ValueError, "num_codes"),
    ("ibq_dim", lambda: Q.IBQuantizer(4, 0), ValueError, "code_dim"),
    ("lfq_dim", lambda: Q.LFQuantizer(0), ValueError, "code_dim"),
    ("lfq_temp", lambda: Q.LFQuantizer(4, temperature=-1.0), ValueError, "temperature"),
    ("bsq_dim_float", lambda: Q.BSQuantizer(2.5), ValueError, "code_dim"),
    ("ot_temp", lambda: Q.SinkhornQuantizer(4, 2, temperature=0.0), ValueError, "temperature"),
    ("ot_iters", lambda: Q.SinkhornQuantizer(4, 2, num_iters=0), ValueError, "num_iters"),
    ("cvq_anchor", lambda: Q.AnchoredQuantizer(4, 2, anchor="far"), ValueError, "anchor"),
    ("est_name", lambda: Q.EstimatorQuantizer(4, 2, estimator="reinforce"), ValueError, "estimator"),
    ("diveq_noise", lambda: Q.diveq(X, X, direction_noise=-1.0), ValueError, "direction_noise"),
    ("fr_name", lambda: XP.frontier_trial("VQ", 0), ValueError, "name"),
    ("fr_binary_k", lambda: XP.frontier_trial("LFQ", 0, num_codes=60), ValueError, "num_codes"),
    ("lc_names", lambda: XP.large_codebook(torch.rand(4, 1, 8, 8), torch.rand(2, 1, 8, 8), names=("x",)),
     ValueError, "names"),
    ("lc_codes", lambda: XP.large_codebook(torch.rand(4, 1, 8, 8), torch.rand(2, 1, 8, 8), num_codes=1),
     ValueError, "num_codes"),
    ("uc_latents", lambda: XP.uniform_ceiling(64, 0), ValueError, "num_latents"),
    ("gp_codes", lambda: XP.gradient_problem(num_codes=0), ValueError, "num_codes"),
    ("rg_temp", lambda: XP.reference_gradient(XP.gradient_problem(), 0.0), ValueError, "temperature"),
    ("et_name", lambda: XP.estimator_trial("reinforce", 0), ValueError, "estimator"),
    ("gs_temp", lambda: GW.gradient_state(-1.0), ValueError, "temperature"),
    ("gs_estimator", lambda: GW.gradient_state(0.3, "REINFORCE"), ValueError, "estimator"),
    # the course lab's grading limits
    ("limits_wall_nan", lambda: CL.Limits(wall=nan), ValueError, "wall"),
    ("limits_memory_str", lambda: CL.Limits(memory="4G"), ValueError, "memory"),
    ("limits_processes_small", lambda: CL.Limits(processes=1), ValueError, "processes"),
    ("limits_output_float", lambda: CL.Limits(output=1.5), ValueError, "output"),
]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("call, error, name", [pytest.param(c, e, n, id=i) for i, c, e, n in CASES])
def test_bad_argument_is_named(call, error, name):
    def hang(*args):
        raise TimeoutError("the call did not return within 20 s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(20)
    try:
        with pytest.raises(error, match=rf"\b{re.escape(name)}\b"):
            call()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_the_table_is_large_and_its_ids_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)) >= 200
