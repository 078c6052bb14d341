"""``python -m vqlab.course``: see :mod:`vqlab.course`."""
from vqlab.course import main

main()
