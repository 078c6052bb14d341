"""Where a widget update's time goes in the kernel: the callback (state + drawing) vs. the PNG encoding.

For every widget that needs no trained model, moves its first slider (else dropdown) one step, as the browser test does,
and times the callback ``draw(state(...))`` and the PNG encoding the inline backend does after
``plt.show()``. The browser test (make test-browser) measures move -> new figure in the page; the
difference is transfer and rendering. Run: python benchmarks/widget_latency.py
"""
from __future__ import annotations

import io
import time

import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from vqlab.widgets import fsq, hcvq, homology, ib, ng_fcm, priors, soft_vq, vq  # noqa: E402

BUILDERS = {"01 toy_vq": vq.toy_vq_widget, "02 ib_toy": ib.ib_toy_widget, "03 soft_vq": soft_vq.soft_vq_widget,
            "04 ng_fcm": ng_fcm.ng_fcm_widget, "04 ng_annealing": ng_fcm.ng_annealing_widget,
            "05 rips": homology.rips_widget, "06 hcvq": hcvq.hcvq_widget,
            "07 receptive_field": priors.receptive_field_widget, "08 fsq": fsq.fsq_widget}


def _interactive(widget: widgets.Widget) -> widgets.interactive:
    """The ``interactive`` inside ``widget`` (itself, or the first one among a box's children)."""
    if isinstance(widget, widgets.interactive):
        return widget
    return next(_interactive(c) for c in widget.children if isinstance(c, (widgets.interactive, widgets.Box)))


def _step(control: widgets.Widget) -> None:
    """Move ``control`` one step right (a slider) or to the next option (a dropdown)."""
    if isinstance(control, widgets.Dropdown):
        control.index = (control.index + 1) % len(control.options)
    elif isinstance(control, widgets.FloatLogSlider):
        control.value = control.base ** (control.min + (control.max - control.min) / 2)
    else:
        control.value = min(control.max, control.value + control.step)


def main() -> None:
    """Print one line per widget: the control moved, callback seconds, PNG seconds."""
    print(f"{'widget':<22} {'control':<12} {'callback s':>10} {'png s':>7}")
    for name, build in BUILDERS.items():
        ui = _interactive(build())
        plt.close("all")
        sliders = [w for w in ui.kwargs_widgets if isinstance(w, widgets.widget_float._Float | widgets.widget_int._Int)]
        control = (sliders or [w for w in ui.kwargs_widgets if isinstance(w, widgets.Dropdown)])[0]
        start = time.perf_counter()
        _step(control)
        callback = time.perf_counter() - start
        start = time.perf_counter()
        plt.gcf().savefig(io.BytesIO(), format="png", bbox_inches="tight")
        png = time.perf_counter() - start
        plt.close("all")
        print(f"{name:<22} {control.description:<12} {callback:>10.3f} {png:>7.3f}")


if __name__ == "__main__":
    main()
