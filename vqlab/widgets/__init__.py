"""Slider logic for the notebooks, one module per notebook.

==========================  =======  ===========================================================
module                      notebook widgets
==========================  =======  ===========================================================
:mod:`vqlab.widgets.vq`         01   toy VQ-VAE (K, beta, steps), digits code browser
:mod:`vqlab.widgets.ib`         02   temperature (= VIB beta) on a toy codebook
:mod:`vqlab.widgets.soft_vq`    03   soft assignment regions and the posterior mean
:mod:`vqlab.widgets.ng_fcm`     04   neural-gas range / fuzzifier, lambda annealing
:mod:`vqlab.widgets.topology`   05   Vietoris–Rips complex at eps, pushing MST deaths up
:mod:`vqlab.widgets.hcvq`       06   live HC-VQ run vs its dry run
:mod:`vqlab.widgets.priors`     07   receptive fields, sampling temperature, completion
==========================  =======  ===========================================================

Every widget is a pure ``<thing>_state`` function returning a frozen ``<Thing>State`` dataclass
(unit-tested in ``tests/test_widgets_<module>.py``), a ``draw_<thing>`` function and a ``<thing>_widget``
builder (:mod:`vqlab.widgets._ui`). Drawings of experiment results are in :mod:`vqlab.plotting`.
Notebooks import one module: ``from vqlab.widgets import vq``.
"""
