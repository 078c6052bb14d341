"""Is this Python ready for the course? ``python -m vqlab.check [EXTRA ...]`` prints one line per part.

``OK`` or ``FAIL`` for: the Python, vqlab itself (which distribution, where it is imported from, every module
importable), torch and the device training would use (a CUDA GPU, else the CPU), every dependency in vqlab's
metadata (installed version within the declared range, importable), and one line per optional part (the
extras: ``lab``, ``test``, ``course``, ``book``, ...); ``--`` marks an optional part that is not (completely)
installed.
The extras named on the command line (``python -m vqlab.check lab,test``) are required. The exit status is 1
when a required line fails.

The requirements are read from the installed metadata of vqlab's distribution (pyproject.toml), not listed
here.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import importlib.metadata as metadata
import pkgutil
import platform
import sys

from packaging.requirements import Requirement

import vqlab

DISTRIBUTION = "vqlab-course"  # pyproject.toml's [project] name (tests/test_check.py keeps the two equal)


def _line(ok: bool | None, text: str) -> str:
    return f"{'--' if ok is None else 'OK' if ok else 'FAIL':<5} {text}"


@functools.cache
def _top_level() -> dict[str, list[str]]:
    """``{top-level module: [distributions installing it]}`` (slow to build: once per report)."""
    return metadata.packages_distributions()


def _owners() -> list[str]:
    """The installed distributions that provide a top-level ``vqlab``: this course's, or PyPI's other one."""
    return sorted(set(_top_level().get("vqlab", [])))


def _distribution() -> metadata.Distribution | None:
    """This course's distribution when it alone provides ``vqlab`` (None: not installed, or a clash)."""
    return metadata.distribution(DISTRIBUTION) if _owners() == [DISTRIBUTION] else None


def _module_of(dist_name: str) -> str:
    """The top-level module a distribution installs (``scikit-learn`` -> ``sklearn``, ``giotto-ph`` -> ``gph``)."""
    wanted = dist_name.lower().replace("-", "_")
    modules = sorted(m for m, dists in _top_level().items()
                     if any(d.lower().replace("-", "_") == wanted for d in dists) and not m.startswith("_"))
    return wanted if wanted in modules else (modules[0] if modules else wanted)


def _requirement_status(req: Requirement) -> tuple[str, str]:
    """``(state, text)``: state ``"ok"`` (installed, in the declared range, imports), ``"missing"`` or ``"broken"``."""
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        return "missing", f"{req.name}: not installed"
    if req.specifier and not req.specifier.contains(version, prereleases=True):
        return "broken", f"{req.name} {version}: needs {req.specifier}"
    try:
        importlib.import_module(_module_of(req.name))
    except Exception as err:  # a broken install shows as any error at import
        return "broken", f"{req.name} {version}: import failed ({type(err).__name__}: {err})"
    return "ok", f"{req.name} {version}"


def _requirements(dist: metadata.Distribution, extra: str) -> list[Requirement]:
    """The requirements of ``extra`` ("" for the package itself) that apply on this Python."""
    reqs = [Requirement(r) for r in dist.requires or []]
    own = [r for r in reqs if r.marker is None or r.marker.evaluate({"extra": extra})]
    if not extra:
        return own
    return [r for r in own if r.marker is not None and not r.marker.evaluate({"extra": ""})]


def _vqlab_lines(dist: metadata.Distribution | None) -> list[tuple[bool, str]]:
    where = vqlab.__path__[0]
    owners = _owners()
    if dist is None:
        installed = f"installed by {', '.join(owners)}" if owners else "not installed, found on sys.path"
        lines = [(False, f"vqlab {vqlab.__version__} at {where}: {installed}")]
    else:
        lines = [(True, f"vqlab {vqlab.__version__} at {where} (distribution {dist.metadata['Name']})")]
    broken = []
    for module in pkgutil.walk_packages(vqlab.__path__, "vqlab."):
        if module.name not in ("vqlab.check", "__main__"):
            try:
                importlib.import_module(module.name)
            except Exception as err:
                broken.append(f"{module.name} ({type(err).__name__}: {err})")
    lines.append((not broken, "vqlab modules import" if not broken else "vqlab modules: " + "; ".join(broken)))
    return lines


def _device_line() -> tuple[bool, str]:
    try:
        import torch

        from vqlab.train import resolve_device
    except Exception as err:
        return False, f"torch: {type(err).__name__}: {err}"
    device = resolve_device("auto")
    if device.type == "cuda":
        where = f"{torch.cuda.get_device_name(device)} ({torch.cuda.device_count()} CUDA device(s))"
    else:
        where = "the CPU (torch sees no CUDA GPU)"
    return True, f"device: vqlab trains on {where}; torch uses {torch.get_num_threads()} CPU thread(s)"


def _report(required: tuple[str, ...] = ()) -> tuple[list[str], int]:
    """The check's lines and how many required lines failed."""
    _top_level.cache_clear()
    dist = _distribution()
    python_ok = sys.version_info[:2] >= (3, 11)
    rows: list[tuple[bool | None, str, bool]] = [
        (python_ok, f"Python {platform.python_version()} ({platform.python_implementation()}, {platform.system()} "
                    f"{platform.machine()}) at {sys.executable}" + ("" if python_ok else ": vqlab needs 3.11+"), True)]
    rows += [(ok, text, True) for ok, text in _vqlab_lines(dist)]
    rows.append((*_device_line(), True))
    if dist is None:  # no metadata: nothing more to check against
        rows += [(False, f"[{e}]: unknown without vqlab's metadata", True) for e in required]
        return [_line(ok, text) for ok, text, _ in rows], sum(1 for ok, _, needed in rows if needed and not ok)
    rows += [(state == "ok", text, True) for state, text in map(_requirement_status, _requirements(dist, ""))]
    extras = dist.metadata.get_all("Provides-Extra") or []
    rows += [(False, f"[{e}]: no such extra (vqlab has: {', '.join(extras)})", True) for e in required
             if e not in extras]
    source = dict(u.split(", ", 1) for u in dist.metadata.get_all("Project-URL") or []).get("Source")
    for extra in extras:
        states, texts = zip(*map(_requirement_status, _requirements(dist, extra)))
        needed = extra in required
        text = f"[{extra}] " + ", ".join(texts)
        ok = True if set(states) == {"ok"} else False if needed else None  # None: optional, not (all) there
        if not ok:
            text += f"  ({'' if needed else 'optional: '}pip install \"{dist.metadata['Name']}[{extra}] @ git+{source}\")"
        rows.append((ok, text, needed))
    lines = [_line(ok, text) for ok, text, _ in rows]
    return lines, sum(1 for ok, _, needed in rows if needed and not ok)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vqlab.check", description=__doc__.split("\n\n")[0])
    parser.add_argument("extras", nargs="*", help="extras that must be installed, e.g. lab,test,course")
    args = parser.parse_args(argv)
    required = tuple(e for arg in args.extras for e in arg.split(",") if e)
    lines, failed = _report(required)
    print("\n".join(lines))
    print(f"{failed} required part(s) failed" if failed else "everything required is in place")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
