"""What the scripts under ``scripts/`` write as the ``machine`` of a saved result (``Comparison.save(meta=...)``)."""
from __future__ import annotations

import os
import platform

import torch


def cpu_model() -> str:
    """The processor's name as Linux reports it (``platform.processor()`` is empty there), else the machine type."""
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def machine() -> str:
    """``"<processor>, <n> cores (shared), <OS>, torch <version>, <t> thread(s)"`` of this process."""
    return (f"{cpu_model()}, {os.cpu_count()} cores (shared), {platform.system()}, "
            f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
