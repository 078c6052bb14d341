"""Where a widget update's time goes in the kernel, against the way the widgets drew before.

For every notebook widget that needs no trained model, moves its first slider (else menu) one step, as the
browser test does, and times the parts of the redraw (:class:`vqlab.widgets._ui.SliderFigure`): the
state, drawing it into the figure, and rendering the changed artists to a PNG (blitting). The peer, measured
in the same run, is what an ``ipywidgets.interactive`` + ``plt.show()`` update costs: the state, a new figure,
and the inline backend's PNG (``savefig(bbox_inches="tight")``). Medians of ``--repeat`` moves one step right and back.
The browser test (make test-browser) measures move -> new figure in the page; the rest is transfer and
the browser. Run: python benchmarks/widget_latency.py
"""
from __future__ import annotations

import argparse
import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from vqlab.widgets import fsq, hcvq, homology, ib, ng_fcm, priors, soft_vq, vq  # noqa: E402
from vqlab.widgets._ui import SliderFigure  # noqa: E402

BUILDERS = {"01 toy_vq": vq.toy_vq_widget, "02 ib_toy": ib.ib_toy_widget, "03 soft_vq": soft_vq.soft_vq_widget,
            "04 ng_fcm": ng_fcm.ng_fcm_widget, "04 ng_annealing": ng_fcm.ng_annealing_widget,
            "04 codebook_pull": ng_fcm.codebook_pull_widget,
            "05 rips": homology.rips_widget, "06 hcvq": hcvq.hcvq_widget,
            "07 receptive_field": priors.receptive_field_widget, "08 fsq": fsq.fsq_widget}


def _first_control(w: SliderFigure):
    """The control the browser test moves: the first slider, else the first menu."""
    controls = list(w.controls.values())
    return next((c for c in controls if hasattr(c, "step") and hasattr(c, "max")), controls[0])


def _values_after_step(w: SliderFigure, sign: int) -> dict:
    """The controls' values with the first control ``sign`` steps right (1) or where it is (0)."""
    control, values = _first_control(w), w.values()
    name = next(n for n, c in w.controls.items() if c is control)
    if hasattr(control, "base"):
        values[name] = control.value * control.base ** (sign * control.step)
    elif hasattr(control, "step"):
        values[name] = control.value + sign * control.step
    else:
        values[name] = control.options[(control.index + sign) % len(control.options)]
        values[name] = values[name][1] if isinstance(values[name], tuple) else values[name]
    return values


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    """Print one line per widget: median seconds of state, draw, render + PNG, their sum, and the peer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="moves per widget (median)")
    args = parser.parse_args()
    print(f"{'widget':<20} {'state s':>8} {'draw s':>7} {'png s':>7} {'redraw s':>9} {'peer s':>7} {'ratio':>6}")
    for name, build in BUILDERS.items():
        w = build()
        rows = []
        for i in range(args.repeat):
            values = _values_after_step(w, 1 - i % 2)
            state, t_state = _timed(w.state_fn, **values)
            _, t_draw = _timed(w.live.update, state)
            _, t_png = _timed(w.live.png)
            fig, t_new = _timed(w.draw_fn, state)
            _, t_inline = _timed(fig.savefig, io.BytesIO(), format="png", bbox_inches="tight")
            plt.close(fig)
            rows.append((t_state, t_draw, t_png, t_state + t_draw + t_png, t_state + t_new + t_inline))
        med = [statistics.median(col) for col in zip(*rows)]
        print(f"{name:<20} {med[0]:>8.3f} {med[1]:>7.3f} {med[2]:>7.3f} {med[3]:>9.3f} {med[4]:>7.3f} "
              f"{med[3] / med[4]:>6.2f}")


if __name__ == "__main__":
    main()
