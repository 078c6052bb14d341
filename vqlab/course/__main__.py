"""``python -m vqlab.course``: see :mod:`vqlab.course`."""
from vqlab.course import main

if __name__ == "__main__":  # imported (e.g. by python -m vqlab.check's import of every module): nothing runs
    main()
