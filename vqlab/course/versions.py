"""Student and autograder versions of the notebooks, with ``otter assign``."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["assign"]


def assign(notebooks: Sequence[Path], out: Path) -> list[Path]:
    """``otter assign`` every master notebook into ``out/student`` and ``out/autograder``.

    One ``otter assign`` child process per notebook, as many at a time as there are CPU cores (each
    only reads and writes notebooks: no kernel is started).

    Args:
        notebooks: master notebooks (``NN_topic.ipynb``, each with an ``# ASSIGNMENT CONFIG`` raw cell).
        out: the output folder; its ``student`` and ``autograder`` sub-folders are replaced.
    Returns:
        the student notebooks written, in the order of ``notebooks``.
    """
    if not notebooks:
        raise ValueError("notebooks must name at least one master notebook")
    for master in map(Path, notebooks):
        if not master.is_file():
            raise FileNotFoundError(f"notebooks: no master notebook {master}")
    student, autograder = out / "student", out / "autograder"
    for folder in (student, autograder):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(lambda master: _assign_one(Path(master), student, autograder), notebooks))


def _assign_one(master: Path, student: Path, autograder: Path) -> Path:
    """``otter assign`` one master notebook; copy its student notebook, autograder notebook and zip."""
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run([sys.executable, "-m", "otter", "assign", str(master), tmp],
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"otter assign failed on {master}:\n{result.stdout}{result.stderr}")
        shutil.copy(Path(tmp, "student", master.name), student / master.name)
        shutil.copy(Path(tmp, "autograder", master.name), autograder / master.name)
        (zip_path,) = Path(tmp, "autograder").glob("*-autograder_*.zip")
        shutil.copy(zip_path, autograder / f"{master.stem}-autograder.zip")
    return student / master.name
