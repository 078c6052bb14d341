"""Installing in a lab room: the offline wheelhouse route, the interpreter `make` picks, the course machines' pins
and true version floors."""
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MAKEFILE = (ROOT / "Makefile").read_text()
WHEELHOUSE = ROOT / "wheelhouse"


def pins(name: str) -> dict[str, Version]:
    """``{package: version}`` of a constraints file in constraints/ (each line ``name==version``)."""
    out = {}
    for line in (ROOT / "constraints" / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", line
            out[req.name.lower()] = Version(spec.version)
    return out


def declared(*extras: str) -> list[Requirement]:
    """The package's requirements and those of ``extras``, from pyproject.toml."""
    optional = PYPROJECT["project"]["optional-dependencies"]
    return [Requirement(line) for line in PYPROJECT["project"]["dependencies"] + [r for e in extras for r in optional[e]]]


def test_floors_file_pins_every_dependency_at_its_declared_minimum():
    floors = {}
    for req in declared("lab", "test", "course"):
        (spec,) = req.specifier  # one bound per dependency: the floor
        assert spec.operator == ">=", str(req)
        floors[req.name.lower()] = Version(spec.version)
    assert pins("floors.txt") == floors


def test_course_constraints_pin_every_dependency_within_its_range():
    # `make install` and `make wheelhouse` pass constraints/course.txt to pip: each package the course machines
    # install (Python 3.11) has its exact version there, inside pyproject.toml's range.
    course = pins("course.txt")
    for req in declared("lab", "test", "course", "book", "browser"):
        if req.marker is None or req.marker.evaluate({"python_version": "3.11", "extra": ""}):
            assert req.name.lower() in course, f"{req.name} is not pinned in constraints/course.txt"
            assert req.specifier.contains(course[req.name.lower()]), f"{req.name}=={course[req.name.lower()]}"
    for build_requirement in map(Requirement, PYPROJECT["build-system"]["requires"]):  # for the wheelhouse
        assert build_requirement.specifier.contains(course[build_requirement.name])


def test_python_range_is_the_one_make_checks():
    spec = SpecifierSet(PYPROJECT["project"]["requires-python"])
    (bound,) = spec  # a floor and no upper cap
    assert bound.operator == ">=" and "3.10" not in spec  # the tests import tomllib (3.11+)
    low = "({}, {})".format(*Version(bound.version).release[:2])
    assert f"sys.exit(not {low} <= sys.version_info[:2])" in MAKEFILE
    assert sys.version_info[:2] >= Version(bound.version).release[:2]


def test_make_builds_vqlab_the_standard_way():
    # An isolated build (pip's default) from the build backend pyproject.toml names: `make wheelhouse` puts
    # that backend's wheel into wheelhouse/, so the build works offline too (test_offline_install_from_wheelhouse).
    assert "--no-build-isolation" not in MAKEFILE
    out = subprocess.run(["make", "-n", "wheelhouse"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    (line,) = [ln for ln in MAKEFILE.splitlines() if ln.startswith("BUILD_REQUIRES :=")]
    snippet = line.split(":=", 1)[1].strip()
    assert snippet in out
    printed = subprocess.run([sys.executable, "-c", snippet], cwd=ROOT, capture_output=True, text=True, check=True)
    assert printed.stdout.split() == PYPROJECT["build-system"]["requires"]


def _fake_python(path: Path, works: bool) -> None:
    path.write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n" if works else "#!/bin/sh\nexit 1\n")
    path.chmod(0o755)


@pytest.mark.parametrize("good", ["python3.11", "python3", "python"])
def test_make_takes_the_first_supported_interpreter(tmp_path, good):
    names = ["python3.11", "python3", "python"]
    for name in names:
        _fake_python(tmp_path / name, works=names.index(name) >= names.index(good))
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    env.pop("PYTHON", None)
    out = subprocess.run(["make", "-n", "wheelhouse"], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    assert f"\n{good} -m pip download" in out


def test_make_says_what_is_missing_without_a_supported_interpreter(tmp_path):
    for name in ("python3.11", "python3", "python"):
        _fake_python(tmp_path / name, works=False)
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    done = subprocess.run(["make", "wheelhouse"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "Python 3.11 or newer is needed (tried: python3.11 python3 python)" in done.stdout


@pytest.mark.skipif(not any(WHEELHOUSE.glob("*.whl")), reason="no wheelhouse/ (make wheelhouse builds it)")
@pytest.mark.timeout(1200)  # past the install's own 900 s
def test_offline_install_from_wheelhouse(tmp_path):
    """`make install` into a fresh venv with every index switched off: only wheelhouse/ can supply wheels."""
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_INDEX_URL="http://127.0.0.1:9/simple",
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9", VIRTUAL_ENV="")
    done = subprocess.run(["make", "install", f"VENV={venv}"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--no-index --find-links wheelhouse" in done.stdout and "--no-build-isolation" not in done.stdout
    probe = "import torch, vqlab, vqlab.train; print(torch.__version__, vqlab.__file__)"
    out = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == "2.13.0+cpu"
    assert Path(out[1]).is_relative_to(ROOT)
