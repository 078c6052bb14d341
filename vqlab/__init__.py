"""vqlab: a small teaching library for discrete representation learning.

Import the submodules you need, e.g. ``from vqlab.quantizers import VectorQuantizer``.
``import vqlab`` itself loads nothing heavy (no torch), so ``python -m vqlab.check`` can report a missing or
broken dependency. ``vqlab.train``, which the model, experiment and prior modules import, fixes torch's CPU
thread count once when it is first imported (see :func:`vqlab.train.configure_threads`), because torch and
scikit-learn thread pools fight each other on small machines.

The distribution is ``vqlab-course`` (PyPI's ``vqlab`` is another project); the import name is ``vqlab``.
"""

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)
__all__ = ["configure_threads", "seed_everything"]


def __getattr__(name: str):
    """``vqlab.seed_everything`` and ``vqlab.configure_threads``, from :mod:`vqlab.train` on first use."""
    if name in __all__:
        from vqlab import train

        return getattr(train, name)
    raise AttributeError(f"module 'vqlab' has no attribute {name!r}")
