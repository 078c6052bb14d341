"""Every notebook in a real JupyterLab + Chromium: run all cells, drive every widget, save, reopen.

``make test-browser`` (marker ``browser``; ``make unit`` skips it). Per notebook: Run -> Run All Cells,
wait for the kernel to finish, fail on any traceback or widget error text; for every ``interactive``
widget move its first slider one step (or pick the next dropdown option) and require its figure to
change, timing the move -> new figure (one move, then a burst of moves, which must not queue up); then
save, close the tab, shut the kernel down, reopen and require the widgets to display without error. A
latency table is printed at the end. Set VQLAB_BROWSER_NOTEBOOKS=01,05 to run some notebooks only.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from lab_server import REPO, Lab  # tests/browser/lab_server.py (pytest puts this folder on sys.path)

pytestmark = pytest.mark.browser

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
ERROR_TEXTS = ("Error displaying widget", "Failed to load model class", "Traceback (most recent call last)")
_SELECTED = [s for s in os.environ.get("VQLAB_BROWSER_NOTEBOOKS", "").split(",") if s]
NOTEBOOKS = [p.name for p in sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))
             if not _SELECTED or any(p.name.startswith(s) for s in _SELECTED)]
RUN_TIMEOUT_S = 600
UPDATE_TIMEOUT_S = 90
QUIET_S = 1.5          # no new figure for this long (and the kernel idle): the widget has settled
BURST = 4              # key presses in a burst
BURST_GAP_S = 0.05

# Records the widget's figures: installed on the widget's Output, it timestamps every new image.
_WATCH = """(root) => {
  const out = root.querySelector('.widget-output');
  const key = () => { const img = out && out.querySelector('img');
                      return img ? img.src.length + ':' + img.src.slice(-96) : null; };
  if (window.__vqlabObs) window.__vqlabObs.disconnect();
  const rec = {t0: performance.now(), changes: [], last: key()};
  const obs = new MutationObserver(() => { const k = key();
    if (k !== null && k !== rec.last) { rec.last = k; rec.changes.push((performance.now() - rec.t0) / 1000); } });
  obs.observe(out, {subtree: true, childList: true, attributes: true});
  window.__vqlabRec = rec; window.__vqlabObs = obs;
  return rec.last;
}"""


@dataclass
class Timing:
    """One widget's measured latencies (seconds from the first key press)."""

    notebook: str
    widget: int
    control: str
    first: float
    settled: float
    burst_settled: float
    burst_figures: int


TIMINGS: list[Timing] = []


@pytest.fixture(scope="module", autouse=True)
def _latency_table(request):
    """Print the latency table of every widget driven in this module at its end."""
    start = time.monotonic()
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter else print
    write("")
    write(f"browser test: {time.monotonic() - start:.0f} s for {len(NOTEBOOKS)} notebooks")
    write(f"{'notebook':<40} {'#':>2} {'control':<12} {'first s':>8} {'settled s':>9} "
          f"{'burst s':>8} {'figs':>4}")
    for t in TIMINGS:
        write(f"{t.notebook:<40} {t.widget:>2} {t.control:<12} {t.first:>8.2f} {t.settled:>9.2f} "
              f"{t.burst_settled:>8.2f} {t.burst_figures:>4}")


def _session(lab: Lab, name: str) -> dict | None:
    return next((s for s in lab.api("api/sessions") if s["path"] == name), None)


def _kernel_idle(lab: Lab, name: str) -> bool:
    session = _session(lab, name)
    return session is not None and session["kernel"]["execution_state"] == "idle"


def _wait_kernel_idle(lab: Lab, name: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not _kernel_idle(lab, name):
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}: the kernel was not idle within {timeout} s: {_session(lab, name)}")
        time.sleep(0.3)


def _open(browser, lab: Lab, name: str):
    """A new page with ``name`` open (the only tab: ``reset`` drops the tabs a failed test left) and its
    kernel idle."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{lab.url}lab/tree/{name}?reset&token={lab.token}")
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=120_000)
    _wait_kernel_idle(lab, name)
    return page


def _errors(page) -> list[str]:
    """The error texts shown anywhere in the notebook, each with a line of context."""
    text = page.locator(".jp-NotebookPanel").first.inner_text()
    return [line.strip()[:300] for line in text.splitlines() if any(e in line for e in ERROR_TEXTS)]


def _run_all(page, lab: Lab, name: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    prompts = page.locator(".jp-NotebookPanel .jp-InputPrompt")
    calm = 0
    while calm < 3:  # three polls in a row with no [*] prompt and an idle kernel
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}: cells still running after {RUN_TIMEOUT_S} s")
        time.sleep(0.5)
        running = sum("*" in t for t in prompts.all_inner_texts())
        calm = calm + 1 if running == 0 and _kernel_idle(lab, name) else 0


def _wait_figures(page, lab: Lab, name: str, label: str) -> list[float]:
    """Seconds (from the key press) at which new figures appeared, once the widget settled."""
    deadline = time.monotonic() + UPDATE_TIMEOUT_S
    while True:
        time.sleep(0.2)
        changes, idle_for = page.evaluate("() => [window.__vqlabRec.changes, "
                                          "(performance.now() - window.__vqlabRec.t0) / 1000]")
        if changes and idle_for - changes[-1] > QUIET_S and _kernel_idle(lab, name):
            return changes
        if time.monotonic() > deadline:
            raise AssertionError(f"{label}: the figure did not change within {UPDATE_TIMEOUT_S} s "
                                 f"(changes seen: {changes})")


def _move(page, widget, times: int) -> str:
    """Move the widget's first slider right ``times`` times (or pick the next dropdown option); its label."""
    handle = widget.locator(".noUi-handle")
    if handle.count():
        label = widget.locator(".widget-slider .widget-label").first.inner_text() or "slider"
        handle.first.focus()
        page.evaluate("() => { window.__vqlabRec.t0 = performance.now(); }")
        for i in range(times):
            page.keyboard.press("ArrowRight")
            if i + 1 < times:
                time.sleep(BURST_GAP_S)
        return label
    select = widget.locator("select").first
    options = select.locator("option").all_inner_texts()
    current = select.evaluate("s => s.selectedIndex")
    target = (current + times) % len(options)
    label = widget.locator(".widget-dropdown .widget-label").first.inner_text() or "dropdown"
    page.evaluate("() => { window.__vqlabRec.t0 = performance.now(); }")
    select.select_option(index=target)
    return label


def _stored_widget_count(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum(WIDGET_VIEW in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def _unsaved_widget_ids(path: Path) -> list[str]:
    """The widget ids the saved outputs show whose state the saved metadata lacks."""
    nb = nbformat.read(path, as_version=4)
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return [o["data"][WIDGET_VIEW]["model_id"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if WIDGET_VIEW in o.get("data", {}) and o["data"][WIDGET_VIEW]["model_id"] not in state]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_in_lab(browser, lab: Lab, name: str):
    """Run all, drive every widget (its figure must change), save, reopen: no error anywhere."""
    expected = _stored_widget_count(REPO / "notebooks" / name)
    page = _open(browser, lab, name)
    try:
        started = time.monotonic()
        _run_all(page, lab, name)
        print(f"{name}: ran in {time.monotonic() - started:.0f} s")
        assert not _errors(page), f"{name}: errors after Run All: {_errors(page)}"
        widgets = page.locator(".jp-NotebookPanel .widget-interact")
        assert widgets.count() == expected, (f"{name}: {widgets.count()} interactive widgets shown, "
                                             f"the stored notebook has {expected}")
        for i in range(expected):
            widget = widgets.nth(i)
            widget.scroll_into_view_if_needed()
            label = f"{name} widget {i}"
            assert page.evaluate(_WATCH, widget.element_handle()), f"{label}: no figure before the move"
            control = _move(page, widget, 1)
            first = _wait_figures(page, lab, name, label)
            page.evaluate(_WATCH, widget.element_handle())
            _move(page, widget, BURST)
            burst = _wait_figures(page, lab, name, f"{label} (burst)")
            TIMINGS.append(Timing(name, i, control, first[0], first[-1], burst[-1], len(burst)))
            assert not _errors(page), f"{label}: errors after moving {control}: {_errors(page)}"
        saved_before = (lab.root / name).stat().st_mtime_ns
        page.keyboard.press("Control+s")
        page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
                               timeout=60_000)
        assert (lab.root / name).stat().st_mtime_ns > saved_before, f"{name}: Ctrl-S did not save"
        unsaved = _unsaved_widget_ids(lab.root / name)
        assert not unsaved, f"{name}: saved outputs show widgets whose state was not saved: {unsaved}"
        page.locator(".lm-TabBar-tab.jp-mod-current .lm-TabBar-tabCloseIcon").click()
        page.locator(".jp-NotebookPanel").wait_for(state="detached")
    finally:
        page.close()
    session = _session(lab, name)
    if session:
        lab.api(f"api/sessions/{session['id']}", method="DELETE")
    page = _open(browser, lab, name)
    try:
        page.locator(".jp-NotebookPanel .widget-interact").nth(expected - 1).wait_for(timeout=30_000)
        time.sleep(1)
        assert not _errors(page), f"{name}: errors after save and reopen: {_errors(page)}"
        assert page.locator(".jp-NotebookPanel .widget-interact").count() == expected
    finally:
        page.close()
        session = _session(lab, name)
        if session:
            lab.api(f"api/sessions/{session['id']}", method="DELETE")
