"""Experiments: one driver that trains named model factories over seeds, and one module per notebook.

Every public name is importable from here (``from vqlab import experiments``;
``experiments.collapse_experiment(...)``). The interactive parts of the notebooks live in
:mod:`vqlab.widgets`, the drawings of the results in :mod:`vqlab.plotting`.

============================================  ========  =========================================================
module                                        notebook  what it holds
============================================  ========  =========================================================
:mod:`vqlab.experiments.driver`               all       :class:`Trial`, :class:`Comparison`, :func:`compare`,
                                                        :func:`dask_executor`
:mod:`vqlab.experiments.vq`                   01        gradient paths, straight-through check, codebook collapse
:mod:`vqlab.experiments.ib`                   02        hard VQ vs the EM quantizer, rate vs distortion
:mod:`vqlab.experiments.ng_fcm`               04        the neural gas / fuzzy c-means VQ-VAE, per start
:mod:`vqlab.experiments.homology`             05        the latent-space comparison (AE, AE + L_top, VAE)
:mod:`vqlab.experiments.hcvq`                 06        HC-VQ against its dry run
:mod:`vqlab.experiments.collapse_scoreboard`  08        the codebook-collapse scoreboard
============================================  ========  =========================================================

:func:`compare` is the driver: ``variants`` maps a name to a factory ``seed -> model`` (or ``seed ->``
:class:`Trial` when the run needs ``extra_losses`` hooks or ``callbacks``); each variant is trained once
per seed with :func:`vqlab.train.train`, measured on the test data, and the numbers land in a
:class:`Comparison`. The notebooks' experiments are thin wrappers around it.
"""
from vqlab.experiments.collapse_scoreboard import (SCOREBOARD, scoreboard, scoreboard_metrics, scoreboard_trial,
                                                   usage_curves)
from vqlab.experiments.driver import Comparison, Trial, compare, dask_executor
from vqlab.experiments.hcvq import HCVQ_ARMS, hcvq_comparison, hcvq_metrics, hcvq_trial
from vqlab.experiments.homology import (LATENT_VARIANTS, latent_comparison, latent_metrics, latent_model,
                                        latent_pictures, prior_samples)
from vqlab.experiments.ib import ib_comparison, ib_metrics
from vqlab.experiments.ng_fcm import (FCM_M, NG_LAMBDA, POSTERIOR_ROWS, STARTS, STEPS_PER_RUN, TRAINING,
                                      posterior_vqvae, start_grid)
from vqlab.experiments.vq import (COLLAPSE_VARIANTS, CodewordTravel, codeword_travel, collapse_experiment,
                                  gradient_paths, straight_through_check, usage_counts)

__all__ = [
    # the driver and its result
    "Trial", "Comparison", "compare", "dask_executor",
    # notebook 01
    "gradient_paths", "straight_through_check", "COLLAPSE_VARIANTS", "collapse_experiment", "usage_counts",
    "CodewordTravel", "codeword_travel",
    # notebook 02
    "ib_metrics", "ib_comparison",
    # notebook 04
    "posterior_vqvae", "NG_LAMBDA", "FCM_M", "TRAINING", "STEPS_PER_RUN", "POSTERIOR_ROWS", "STARTS", "start_grid",
    # notebook 05
    "LATENT_VARIANTS", "latent_model", "prior_samples", "latent_metrics", "latent_comparison",
    "latent_pictures",
    # notebook 06
    "HCVQ_ARMS", "hcvq_trial", "hcvq_metrics", "hcvq_comparison",
    # notebook 08
    "SCOREBOARD", "scoreboard_trial", "scoreboard_metrics", "scoreboard", "usage_curves",
]
