"""Notebook 06 widget: sliders for T_beta, T_mu, lambda and the period k drive a *live* short training
run of the digits VQ-VAE with the HC-VQ term (a subset of the digits, a few epochs: seconds), compared
with the dry run of the same seed (cached: it does not depend on the sliders).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from vqlab import topology
from vqlab._checks import check_choice, check_float, check_int
from vqlab.data import load_digits
from vqlab.hcvq import HCVQRun, train_hcvq
from vqlab.widgets._ui import choice, int_slider, interactive_figure, slider

__all__ = ["HCVQState", "hcvq_state", "draw_hcvq", "hcvq_widget"]


@dataclass(frozen=True)
class HCVQState:
    """One HC-VQ run vs its dry run (same seed, data and steps).

    Attributes:
        steps: ``[T]`` training step. usage_hcvq, usage_dry: ``[T]`` per-batch code-usage entropy
            (nats, ``log`` of the batch perplexity). mu0_hcvq, mu0_dry: ``[T]`` mu^0 of the codebook
            (NaN where not computed). gate: ``[T]`` the entropy factor g of the HC-VQ run.
        diagram, diagram_dry: final codebook diagrams ``[H0 [m, 2], H1 [m, 2]]`` (finite bars).
        test, test_dry: test metrics (``recon``, ``E_z``, ``perplexity``, ``codes_used``, ``mu0``, ...).
        params: the slider values.
    """

    steps: np.ndarray
    usage_hcvq: np.ndarray
    usage_dry: np.ndarray
    mu0_hcvq: np.ndarray
    mu0_dry: np.ndarray
    gate: np.ndarray
    diagram: list
    diagram_dry: list
    test: dict
    test_dry: dict
    params: dict


def _digits(n_train: int):
    data = load_digits()
    return data.images(data.x_train[:n_train]), data.images(data.x_test)


@functools.lru_cache(maxsize=4)
def _dry_run(n_train: int, epochs: int, seed: int, period: int) -> HCVQRun:
    """The run without the HC-VQ term (its statistics logged every ``period`` steps)."""
    x, x_test = _digits(n_train)
    return train_hcvq(x, x_test, active=False, seed=seed, epochs=epochs, period=period)


@functools.lru_cache(maxsize=8)  # the builder redraws the default state: do not train it twice
def _hcvq_run(target_betti: float, target_mu: float, lam: float, period: int, mode: str, n_train: int,
              epochs: int, seed: int) -> HCVQRun:
    x, x_test = _digits(n_train)
    return train_hcvq(x, x_test, active=True, seed=seed, epochs=epochs, mode=mode, target_betti=target_betti,
                      target_mu=target_mu, lam=lam, period=period)


def hcvq_state(target_betti: float = 100.0, target_mu: float = 0.5, lam: float = 1.0, period: int = 10,
               *, mode: str = "paper", epochs: int = 4, n_train: int = 384, seed: int = 0) -> HCVQState:
    """Train the notebook's digits VQ-VAE (codebook 128 x 64) on the first ``n_train`` training digits for
    ``epochs`` epochs with HC-VQ (``T_beta``, ``T_mu``, ``lam``, ``period`` k, ``mode``) and without it (the
    dry run), same seed; return the curves and final diagrams (:class:`HCVQState`). Both runs are
    cached (:func:`functools.lru_cache`)."""
    target_betti = check_float("target_betti", target_betti, 0.0)
    target_mu = check_float("target_mu", target_mu, 0.0)
    lam = check_float("lam", lam, 0.0)
    period = check_int("period", period)
    mode = check_choice("mode", mode, ("paper", "code"))
    epochs, n_train = check_int("epochs", epochs), check_int("n_train", n_train, 2)
    seed = check_int("seed", seed, 0)
    dry = _dry_run(n_train, epochs, seed, period)
    run = _hcvq_run(target_betti, target_mu, lam, period, mode, n_train, epochs, seed)

    def usage(r):
        return np.log(np.asarray(r.history.steps["perplexity"]))

    return HCVQState(
        steps=np.arange(len(run.history.steps["loss"])), usage_hcvq=usage(run), usage_dry=usage(dry),
        mu0_hcvq=np.asarray(run.regularizer.history["mu0"]), mu0_dry=np.asarray(dry.regularizer.history["mu0"]),
        gate=np.asarray(run.regularizer.history["gate"]), diagram=run.diagrams, diagram_dry=dry.diagrams,
        test=run.test, test_dry=dry.test,
        params=dict(target_betti=target_betti, target_mu=target_mu, lam=lam, period=period, mode=mode))


def draw_hcvq(state: HCVQState):
    """Three panels: per-batch code-usage entropy (dry vs HC-VQ, with the factor g), mu^0 of the codebook
    over training, and the final HC-VQ codebook diagram (persim)."""
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    ax = axes[0]
    ax.plot(state.steps, state.usage_dry, color="0.5", label=f"dry run (test E_z {state.test_dry['E_z']:.2f})")
    ax.plot(state.steps, state.usage_hcvq, color="C3", label=f"HC-VQ (test E_z {state.test['E_z']:.2f})")
    ax.plot(state.steps, state.gate, color="C0", ls=":", label="factor g")
    ax.set_xlabel("step")
    ax.set_ylabel("usage entropy per batch [nats]")
    ax.legend(fontsize=7)
    ax = axes[1]
    for y, c, lab in ((state.mu0_dry, "0.5", "dry run"), (state.mu0_hcvq, "C3", "HC-VQ")):
        ok = np.isfinite(y)
        ax.plot(state.steps[ok], y[ok], color=c, label=lab)
    target = state.params["target_mu"]
    top = np.nanmax(np.concatenate([state.mu0_hcvq, state.mu0_dry]))
    if target <= 1.5 * top:
        ax.axhline(target, color="C3", ls="--", lw=0.8, label="T_mu")
    else:  # a far-away target would flatten the curves
        ax.plot([], [], color="C3", ls="--", lw=0.8, label=f"T_mu = {target:g} (above)")
    ax.set_xlabel("step")
    ax.set_ylabel("mu0 of the codebook")
    ax.legend(fontsize=7)
    p = state.params
    topology.plot_diagram(state.diagram, ax=axes[2], size=8,
                 title=f"HC-VQ codebook: T_b={p['target_betti']:g}, T_mu={p['target_mu']:g}, lam={p['lam']:g}, "
                       f"k={p['period']}")
    axes[2].title.set_fontsize(8)
    fig.tight_layout()
    return fig


def hcvq_widget(target_betti: float = 100.0, target_mu: float = 0.5, lam: float = 1.0, period: int = 10, *,
                epochs: int = 4, n_train: int = 384, seed: int = 0):
    """Sliders for T_beta, T_mu, lambda (log scale), k and the mode -> a live short run, :func:`draw_hcvq`;
    ``epochs``, ``n_train`` and ``seed`` are :func:`hcvq_state`'s."""
    def update(target_betti, target_mu, lam, period, mode):
        draw_hcvq(hcvq_state(target_betti, target_mu, lam, period, mode=mode, epochs=epochs, n_train=n_train,
                             seed=seed))

    return interactive_figure(update, {
        "target_betti": slider("T_beta", target_betti, 0.0, 200.0, 10.0),
        "target_mu": slider("T_mu", target_mu, 0.0, 4.0, 0.1),
        "lam": slider("lambda", lam, -6, 1, 0.5, log=True),
        "period": int_slider("k", period, 1, 50),
        "mode": choice("mode", ("paper", "code"), "paper")})
