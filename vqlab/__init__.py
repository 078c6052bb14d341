"""vqlab: a small teaching library for discrete representation learning.

Import the submodules you need, e.g. ``from vqlab.quantizers import VectorQuantizer``.
Importing ``vqlab`` fixes torch's CPU thread count once (see :func:`vqlab.train.configure_threads`),
because torch and scikit-learn thread pools fight each other on small machines.
"""
from vqlab.train import configure_threads, seed_everything

configure_threads()

__all__ = ["configure_threads", "seed_everything"]
__version__ = "0.1.0"
