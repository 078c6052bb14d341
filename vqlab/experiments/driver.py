"""The experiment driver: train named model factories over seeds and collect their metrics (variants x seeds).

Every training run goes through :func:`vqlab.train.train`. :func:`~vqlab.experiments.compare` is the
driver: ``variants`` maps a name to a factory ``seed -> model`` (or ``seed ->``
:class:`~vqlab.experiments.Trial` when the run needs ``extra_losses`` hooks or ``callbacks``); each variant
is trained once per seed, measured on the test data, and the numbers land in a
:class:`~vqlab.experiments.Comparison` (values per seed, mean, std, a text table, a plain dict for printing).

The trials are independent, so ``compare(..., executor=...)`` runs them side by side on any
:class:`concurrent.futures.Executor`: a ``ProcessPoolExecutor`` on this machine, or Dask distributed on a
cluster (:func:`~vqlab.experiments.dask_executor`). Each trial is seeded as in a serial run, so the
numbers are the same bit for bit; a trial that fails is reported in ``Comparison.failures``.
"""
from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from torch import Tensor, nn

from vqlab._checks import check_int
from vqlab.stats import PairedDifference, paired_difference
from vqlab.train import History, evaluate, train

__all__ = ["Trial", "Comparison", "compare", "dask_executor", "Factory", "Measure"]


@dataclass
class Trial:
    """One training run: the ``model`` and what :func:`vqlab.train.train` needs besides it.

    A factory passed to :func:`compare` returns a model or a ``Trial``; the driver fills in ``name``,
    ``seed``, ``device`` (the one it trains on), the training ``history``, ``seconds`` (the wall time of the
    :func:`vqlab.train.train` call) and the measured ``metrics``. ``artifacts`` holds what a callback or a measure keeps that is not a number (e.g. diagrams).
    """

    model: nn.Module
    extra_losses: Sequence = ()
    callbacks: Sequence = ()
    name: str = ""
    seed: int = 0
    device: str = "auto"
    history: History | None = None
    seconds: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, object] = field(default_factory=dict)


@dataclass
class Comparison:
    """Metrics over variants x seeds.

    Attributes:
        values: ``{variant: {metric: [one value per seed]}}``.
        seeds: the seeds, in the order of the values.
        trials: ``{variant: [Trial per seed]}`` (the trained models, histories); empty for rows that
            were not trained (e.g. the zoo's raw-pixel row).
        meta: how a saved result was made (command line, machine, seconds, date), kept by :meth:`save`.
        failures: ``{variant: {seed: "ErrorType: message"}}``, the trials that raised (``compare`` with an
            executor). A failed seed has no values: ``values[variant][metric]`` follows
            :meth:`seeds_of`, the seeds that did not fail.

    ``std`` is the **sample** standard deviation over seeds (``ddof=1``), and 0.0 with a single seed
    (no spread measured; the table then shows the mean alone).
    """

    values: dict[str, dict[str, list[float]]]
    seeds: tuple[int, ...]
    trials: dict[str, list[Trial]] = field(default_factory=dict)
    meta: dict[str, object] = field(default_factory=dict)
    failures: dict[str, dict[int, str]] = field(default_factory=dict)

    @property
    def variants(self) -> list[str]:
        return list(self.values)

    def seeds_of(self, variant: str) -> tuple[int, ...]:
        """The seeds of ``variant`` that have values: :attr:`seeds` less its :attr:`failures`."""
        failed = self.failures.get(variant, {})
        return tuple(s for s in self.seeds if s not in failed)

    def metrics(self) -> list[str]:
        """Every metric name, in first-seen order."""
        return list(dict.fromkeys(m for row in self.values.values() for m in row))

    def _row(self, variant: str, metric: str) -> np.ndarray:
        if variant not in self.values:
            raise KeyError(f"no variant {variant!r}; the variants are {self.variants}")
        if metric not in self.values[variant]:
            raise KeyError(f"variant {variant!r} has no metric {metric!r}; it has {list(self.values[variant])}")
        return np.asarray(self.values[variant][metric], dtype=float)

    def mean(self, variant: str, metric: str) -> float:
        return float(np.mean(self._row(variant, metric)))

    def std(self, variant: str, metric: str) -> float:
        """Sample std over seeds (ddof=1); 0.0 for one seed."""
        v = self._row(variant, metric)
        return float(np.std(v, ddof=1)) if len(v) > 1 else 0.0

    def summary(self, variant: str, metric: str) -> tuple[float, float]:
        """``(mean, std)`` over seeds (std with ddof=1)."""
        return self.mean(variant, metric), self.std(variant, metric)

    def subset(self, variants: Sequence[str]) -> Comparison:
        """The same result restricted to ``variants`` (e.g. to draw one of them as a reference)."""
        return Comparison({v: self.values[v] for v in variants}, self.seeds,
                          {v: self.trials[v] for v in variants if v in self.trials}, dict(self.meta),
                          {v: self.failures[v] for v in variants if v in self.failures})

    def to_dict(self, metrics: Sequence[str] | None = None, digits: int = 4) -> dict[str, dict[str, dict]]:
        """``{variant: {metric: {"mean", "std"}}}`` rounded to ``digits``: plain values for printing."""
        keys = self.metrics() if metrics is None else list(metrics)
        return {v: {m: {"mean": round(self.mean(v, m), digits), "std": round(self.std(v, m), digits)}
                    for m in keys if m in self.values[v]} for v in self.values}

    def paired(self, a: str, b: str, metric: str, *, confidence: float = 0.95) -> PairedDifference:
        """The per-seed differences ``a - b`` of ``metric`` and their t interval (:mod:`vqlab.stats`).

        Both variants were trained with the same seeds (the driver guarantees it), so seed ``s`` of ``a`` is
        paired with seed ``s`` of ``b``; a seed that failed for either (:attr:`failures`) is left out, never
        paired with another seed. Print it beside the claim; assert only ``.established`` verdicts.
        """
        row_a, row_b = self._row(a, metric), self._row(b, metric)
        seeds_a, seeds_b = self.seeds_of(a), self.seeds_of(b)
        both = [s for s in seeds_a if s in seeds_b]
        return paired_difference(row_a[[seeds_a.index(s) for s in both]], row_b[[seeds_b.index(s) for s in both]],
                                 a=a, b=b, metric=metric, confidence=confidence)

    def paired_table(self, baseline: str, metrics: Sequence[str], *, higher_is_better: Mapping[str, bool],
                     confidence: float = 0.95, digits: int | Mapping[str, int] = 3,
                     scale: Mapping[str, float] | None = None, labels: Mapping[str, str] | None = None) -> str:
        """Every other variant against ``baseline``: per metric the mean paired difference (variant - baseline),
        its interval, and a mark: ``better`` / ``worse`` where the interval excludes 0, ``n.e.`` (not
        established at this size) where it does not.

        Args:
            baseline: the variant every row is compared with. metrics: the columns.
            higher_is_better: per metric, whether a larger value is better (every metric must be listed).
            confidence: the interval's coverage. digits, scale, labels: as in :meth:`table`.
        """
        if baseline not in self.values:
            raise KeyError(f"no variant {baseline!r}; the variants are {self.variants}")
        missing = [m for m in metrics if m not in higher_is_better]
        if missing:
            raise ValueError(f"higher_is_better must say for every metric whether larger is better; missing {missing}")
        scale, labels = dict(scale or {}), dict(labels or {})

        def cell(v: str, m: str) -> str:
            d = self.paired(v, baseline, m, confidence=confidence)
            nd = digits if isinstance(digits, int) else digits.get(m, 3)
            f = scale.get(m, 1.0)
            mark = "n.e." if d.sign == 0 else "better" if (d.sign > 0) == higher_is_better[m] else "worse"
            return f"{f * d.mean:+.{nd}f} [{f * d.low:+.{nd}f}, {f * d.high:+.{nd}f}] {mark}"

        head = ["variant"] + [f"{m} - {labels.get(baseline, baseline)}" for m in metrics]
        rows = [[labels.get(v, v)] + [cell(v, m) for m in metrics] for v in self.values if v != baseline]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                 for r in [head, *rows]]
        note = (f"(mean paired difference over seeds {list(self.seeds)} [{100 * confidence:g} % t interval]; "
                "n.e. = not established at this size)")
        return "\n".join([*lines, note])

    def save(self, path: str | Path, *, meta: Mapping[str, object] | None = None) -> Path:
        """Write the values, seeds and ``meta`` (merged into :attr:`meta`) as JSON: a result measured outside a
        notebook, which the notebook reads back with :meth:`load`. The trained models are not saved."""
        self.meta.update(meta or {})
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        saved = {"seeds": list(self.seeds), "values": self.values, "meta": self.meta}
        if self.failures:
            saved["failures"] = self.failures
        path.write_text(json.dumps(saved, indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Comparison:
        """A :class:`Comparison` written by :meth:`save` (no trials; ``meta`` says how it was made)."""
        data = json.loads(Path(path).read_text())
        return cls({v: {m: [float(x) for x in xs] for m, xs in row.items()} for v, row in data["values"].items()},
                   tuple(int(s) for s in data["seeds"]), meta=dict(data.get("meta", {})),
                   failures={v: {int(s): str(e) for s, e in row.items()}
                             for v, row in data.get("failures", {}).items()})

    def table(self, metrics: Sequence[str] | None = None, *, digits: int | Mapping[str, int] = 3,
              titles: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
              scale: Mapping[str, float] | None = None, note: str | None = None) -> str:
        """A plain-text table, one row per variant: ``mean ± std`` over seeds of each metric.

        Args:
            metrics: the columns (default: every metric). digits: decimals, one int or per metric.
            titles: column titles per metric (default: the metric name). labels: row labels per variant.
            scale: a factor per metric applied before printing (e.g. 100 for accuracies in %).
            note: the last line (default: which seeds, and that std is the sample std); a line naming each
                failed trial (:attr:`failures`) follows it.
        """
        keys = self.metrics() if metrics is None else list(metrics)
        titles, labels, scale = dict(titles or {}), dict(labels or {}), dict(scale or {})
        one_seed = len(self.seeds) == 1

        def cell(v: str, m: str) -> str:
            if m not in self.values[v]:
                return "-"
            nd = digits if isinstance(digits, int) else digits.get(m, 3)
            f = scale.get(m, 1.0)
            mean = f"{f * self.mean(v, m):.{nd}f}"
            return mean if one_seed else f"{mean} ± {f * self.std(v, m):.{nd}f}"

        head = ["variant"] + [titles.get(m, m) for m in keys]
        rows = [[labels.get(v, v)] + [cell(v, m) for m in keys] for v in self.values]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

        def line(r: list[str]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

        seeds = list(self.seeds)
        if note is None:
            note = f"(seed {seeds[0]})" if one_seed else f"(mean ± std over seeds {seeds}; sample std, ddof=1)"
        lines = [line(head), *map(line, rows), note]
        if self.failures:
            lines.append("failed, left out: " + "; ".join(f"{labels.get(v, v)} seed {s} ({error})"
                                                          for v, row in self.failures.items()
                                                          for s, error in row.items()))
        return "\n".join(lines)


Factory = Callable[[int], "nn.Module | Trial"]
Measure = Callable[[Trial, Tensor], dict[str, float]]


def _default_measure(trial: Trial, x_test: Tensor) -> dict[str, float]:
    return evaluate(trial.model, x_test, device=trial.device)


def _run_trial(factory: Factory, name: str, seed: int, x_train: Tensor, x_test: Tensor, *, epochs: int,
               steps: int | None, batch_size: int, lr: float, measure: Measure, device: str,
               timing: bool) -> Trial:
    """One trial of :func:`compare`: make the model, train it with ``seed``, measure it."""
    made = factory(seed)
    trial = made if isinstance(made, Trial) else Trial(made)
    if not isinstance(trial.model, nn.Module):
        raise TypeError(f"the factory of {name!r} must return an nn.Module or a Trial, got {type(made).__name__}")
    trial.name, trial.seed, trial.device = name, seed, device
    start = time.perf_counter()
    trial.history = train(trial.model, x_train, epochs=epochs, steps=steps, batch_size=batch_size, lr=lr,
                          seed=seed, extra_losses=trial.extra_losses, callbacks=trial.callbacks,
                          progress=False, device=device)
    trial.seconds = time.perf_counter() - start
    trial.metrics = {k: float(v) for k, v in measure(trial, x_test).items()}
    if timing:
        trial.metrics["train_seconds"] = trial.seconds
    return trial


def compare(variants: Mapping[str, Factory], x_train: Tensor, x_test: Tensor, *, seeds: Sequence[int] = (0, 1, 2),
            epochs: int = 10, steps: int | None = None, batch_size: int = 64, lr: float = 1e-3,
            measure: Measure | None = None, device: str = "auto", timing: bool = False,
            executor: Executor | None = None) -> Comparison:
    """Train every variant once per seed with :func:`vqlab.train.train` and measure it on ``x_test``.

    Args:
        variants: name -> factory ``seed -> model`` or ``seed ->`` :class:`Trial` (a fresh model per call;
            the factory seeds its own weights, e.g. through :func:`vqlab.models.build_vqvae`).
        x_train, x_test: training and test inputs.
        seeds: at least one seed; the same seeds for every variant (also the ``seed`` of ``train``, which
            fixes the batch order).
        epochs, steps, batch_size, lr: passed to :func:`vqlab.train.train` (``steps``, when given, is the
            budget in optimizer steps instead of ``epochs``).
        measure: ``measure(trial, x_test) -> {metric: value}`` after training (default
            :func:`vqlab.train.evaluate`: every loss term, ``recon``, ``perplexity``, ``codes_used``).
            Every trial records the wall time of its ``train`` call in ``trial.seconds`` (it depends on the
            machine and its load).
        device: ``"auto"`` (a GPU when torch sees one), ``"cpu"`` or ``"cuda[:N]"``, passed to ``train``
            (see :func:`vqlab.train.resolve_device`) and available to ``measure`` as ``trial.device``.
        timing: also report ``trial.seconds`` as the metric ``train_seconds`` (off by default, so that
            tables printed with every metric stay free of machine-dependent numbers).
        executor: ``None`` trains the trials one after another here, and an error stops the run. Any
            :class:`concurrent.futures.Executor` runs each (variant, seed) as one task: a
            ``ProcessPoolExecutor``, or Dask distributed for several machines (:func:`dask_executor`).
            The factories and ``measure`` travel to the workers (Dask pickles lambdas and functions defined
            in a notebook; a ``ProcessPoolExecutor`` needs module-level functions or ``functools.partial``),
            the trained trials come back. Since every trial is seeded by its factory and ``train``, the
            values are those of the serial run, bit for bit. A trial that raises is reported in
            :attr:`Comparison.failures` with its name and seed (and a warning) and the others are kept.
    Returns:
        a :class:`Comparison` with the trained :class:`Trial` of every run in ``trials``.
    """
    seeds = tuple(check_int("seeds", s, 0) for s in seeds)
    if not seeds:
        raise ValueError("seeds must contain at least one seed")
    if not variants:
        raise ValueError("variants must name at least one model factory")
    check_int("epochs", epochs)
    if not isinstance(timing, bool):
        raise TypeError(f"timing must be a bool, got {timing!r}")
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor or None, got {type(executor).__name__}")
    run = partial(_run_trial, epochs=epochs, steps=steps, batch_size=batch_size, lr=lr,
                  measure=_default_measure if measure is None else measure, device=device, timing=timing)
    values: dict[str, dict[str, list[float]]] = {name: {} for name in variants}
    trials: dict[str, list[Trial]] = {name: [] for name in variants}
    failures: dict[str, dict[int, str]] = {}
    if executor is None:
        done = ((name, seed, run(factory, name, seed, x_train, x_test))
                for name, factory in variants.items() for seed in seeds)
    else:
        futures = [(name, seed, executor.submit(run, factory, name, seed, x_train, x_test))
                   for name, factory in variants.items() for seed in seeds]
        done = _results(futures, failures)
    for name, seed, trial in done:
        for key, value in trial.metrics.items():
            values[name].setdefault(key, []).append(value)
        trials[name].append(trial)
    if failures:
        warnings.warn("trials failed and are left out: " + "; ".join(
            f"{name} seed {seed}: {error}" for name, row in failures.items() for seed, error in row.items()),
            RuntimeWarning, stacklevel=2)
    return Comparison(values, seeds, trials, failures=failures)


def _results(futures: list, failures: dict[str, dict[int, str]]) -> Iterator[tuple[str, int, Trial]]:
    """The trials of ``[(name, seed, future)]`` in that order; a future that raised goes to ``failures``."""
    for name, seed, future in futures:
        try:
            yield name, seed, future.result()
        except Exception as error:  # noqa: BLE001 - any error of one trial must not lose the others
            failures.setdefault(name, {})[seed] = f"{type(error).__name__}: {error}"


@contextmanager
def dask_executor(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """``with dask_executor(workers=4) as executor: compare(..., executor=executor)``: an
    :class:`concurrent.futures.Executor` on Dask distributed (the ``distributed`` extra:
    ``pip install "vqlab[distributed]"``).

    Args:
        workers: start a ``LocalCluster`` of this many worker processes on this machine (one thread each,
            on the loopback interface, no dashboard), closed on leaving the block.
        scheduler: or connect to a running Dask scheduler at this address (``tcp://host:8786``), whose
            workers have vqlab and the same torch installed (``dask scheduler`` on one machine,
            ``dask worker tcp://host:8786 --nthreads 1`` on each of the others).
    Exactly one of the two is given.
    """
    if (workers is None) == (scheduler is None):
        raise ValueError(f"give exactly one of workers and scheduler, got workers={workers!r}, "
                         f"scheduler={scheduler!r}")
    if workers is not None:
        check_int("workers", workers)
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ImportError('Dask distributed is not installed: pip install "vqlab[distributed]"') from None
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client.get_executor()
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, Client(cluster) as client:
        yield client.get_executor()
