"""Slider logic for the notebooks, one module per notebook.

========================================  ========  ======================================================
module                                    notebook  what the sliders explore
========================================  ========  ======================================================
:mod:`vqlab.widgets.prereq`               00        KL, entropy, I(X;Z), an exact ELBO, straight-through
:mod:`vqlab.widgets.vq`                   01        toy VQ-VAE (K, beta, steps, init), digits code browser
:mod:`vqlab.widgets.ib`                   02        temperature (= IB trade-off) on a toy codebook
:mod:`vqlab.widgets.soft_vq`              03        soft assignment regions and the posterior mean
:mod:`vqlab.widgets.ng_fcm`               04        neural-gas range lambda, fuzzifier m, lambda annealing
:mod:`vqlab.widgets.homology`             05        Vietoris-Rips complex at eps, pushing MST deaths up
:mod:`vqlab.widgets.hcvq`                 06        a live HC-VQ run against its dry run
:mod:`vqlab.widgets.priors`               07        receptive fields, sampling temperature, completion
:mod:`vqlab.widgets.fsq`                  08        FSQ levels -> the implicit codebook and its usage
========================================  ========  ======================================================

Every widget has three parts: ``<thing>_state(...)`` computes what to show from the slider values and
returns a ``<Thing>State`` dataclass (plain numbers and arrays, unit-tested in
``tests/test_widgets_<NN>.py``, no ipywidgets involved); ``draw_<thing>(state, fig=None)`` turns it into a
matplotlib figure, or draws it into a figure it drew before (a slider move redraws in place);
``<thing>_widget(...)`` wires sliders to the two with :func:`vqlab.widgets._ui.slider_figure`, which redraws
only what changed and shows the picture in an ``ipywidgets.Image`` (``tests/test_widgets_ui.py`` checks each
widget's redraw against a new drawing; the browser test times it). Notebooks draw the default state once (a
static figure for readers without a kernel) and then show the widget. Drawings of experiment *results* live
in :mod:`vqlab.plotting`.
"""
