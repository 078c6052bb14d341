# Two commands for a fresh machine (see README):
#   make lab    create/reuse .venv, install vqlab, register the kernel, open JupyterLab on notebooks/
#   make test   create/reuse .venv, run unit tests, execute every notebook under nbval, check pairs
# Headless lab (for scripts and remote machines):  make lab LAB_ARGS="--no-browser --port 8899"

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.vqlab-installed
# torch==2.13.0 is the CPU build the course machines keep locally; installing it first stops pip
# from pulling a multi-GB CUDA build when it resolves the rest.
TORCH ?= torch==2.13.0
LAB_ARGS ?=
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_ARGS := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test unit notebooks install clean outputs

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	$(PY) -c "import vqlab, torch, ripser, persim, gph, nbval, jupytext"
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(PY) -m ipykernel install --user --name vqlab --display-name "Python (vqlab)" >/dev/null
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(ROOT_ARGS) $(LAB_ARGS)

unit: $(STAMP)
	$(PY) -m pytest tests -q

notebooks: $(STAMP)
	$(PY) -m pytest --nbval --nbval-current-env --nbval-cell-timeout=600 notebooks -q

test: unit notebooks

clean:
	rm -rf $(VENV)

# Developers: re-execute notebooks in place (stores outputs for GitHub) and keep the .py pair in step.
#   make outputs                        every notebook
#   make outputs NB=notebooks/01_vector_quantization.py
NB ?= $(wildcard notebooks/[0-9]*.py)
outputs: $(STAMP)
	@for f in $(NB); do \
	  stem=$${f%.*}; \
	  $(VENV)/bin/jupytext --sync $$stem.py >/dev/null && \
	  /usr/bin/time -f "$$stem: %e s" $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	      --log-level=WARN --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 \
	      $$stem.ipynb || exit 1; \
	  $(VENV)/bin/jupytext --sync $$stem.ipynb >/dev/null || exit 1; \
	done
