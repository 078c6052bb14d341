# Two commands for a fresh machine (see README):
#   make lab    create/reuse .venv, install vqlab, register the kernel, open JupyterLab on notebooks/
#   make test   create/reuse .venv, run unit tests, execute every notebook under nbval, check pairs
# Headless lab (for scripts and remote machines):  make lab LAB_ARGS="--no-browser --port 8899"
# Instructors and readers:  make book   README, notebooks (stored outputs) and API reference as static HTML in
# _build/book/html, built offline.
# Lab room without internet: run `make wheelhouse` once where there is a network, copy wheelhouse/
# into each clone; every install below then runs offline (no index, only the wheels in wheelhouse/).

# Supported Python: 3.11 or newer (pyproject.toml's requires-python; tests/test_install.py keeps the two in step).
PY_SUPPORTED := import sys; sys.exit(not (3, 11) <= sys.version_info[:2])
# The first of python3.11 (the course machines' version), python3, python that is a supported version; or
# make PYTHON=/path/to/python.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(foreach p,python3.11 python3 python,$(shell command -v $(p) >/dev/null 2>&1 && $(p) -c '$(PY_SUPPORTED)' 2>/dev/null && echo $(p))))
endif
CHECK_PYTHON = test -n "$(PYTHON)" && $(PYTHON) -c '$(PY_SUPPORTED)' || { echo "Python 3.11 or newer is needed \
	(tried: $(or $(PYTHON),python3.11 python3 python)): install one or run make PYTHON=/path/to/python3"; exit 1; }
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.vqlab-installed
BOOK_STAMP := $(VENV)/.vqlab-book-installed
BROWSER_STAMP := $(VENV)/.vqlab-browser-installed
DISTRIBUTED_STAMP := $(VENV)/.vqlab-distributed-installed
# The project's JupyterLab settings (lab/overrides.json: widget state saved with the notebook), where the
# venv's JupyterLab reads them.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
# The notebooks' kernel, the standard python3, registered inside the venv (--sys-prefix) as the venv's own
# Python: the venv's JupyterLab, nbval and otter take it before any python3 kernel of the user's.
KERNEL_SPEC := $(VENV)/share/jupyter/kernels/python3/kernel.json
# The course machines' exact versions (torch==2.13.0 among them: the CPU build they keep locally). pip alone
# (README) takes the newest versions pyproject.toml allows.
CONSTRAINTS ?= constraints/course.txt
# What `make install` puts into the venv: the package with the extras make lab, make test and the course lab use.
EXTRAS := lab,test,course
WHEELHOUSE ?= wheelhouse
OFFLINE := $(if $(wildcard $(WHEELHOUSE)/*.whl),--no-index --find-links $(WHEELHOUSE))
STALE := $(if $(OFFLINE),|| { echo "$(WHEELHOUSE)/ lacks a wheel pyproject.toml now needs: run make wheelhouse \
	where there is a network (or move $(WHEELHOUSE)/ away to install from the index)"; exit 1; })
PIP_INSTALL = -m pip install --quiet --disable-pip-version-check
LAB_ARGS ?=
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_ARGS := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test unit notebooks install book test-book clean outputs wheelhouse test-floors student grade test-course \
	test-browser reset test-distributed

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || { $(CHECK_PYTHON); }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# A venv made before the distribution was renamed vqlab-course (or one holding PyPI's unrelated `vqlab`)
	@# has another distribution owning the import name vqlab: remove it first.
	$(PY) -m pip uninstall --quiet --yes vqlab 2>/dev/null || true
	$(PY) $(PIP_INSTALL) $(OFFLINE) -c $(CONSTRAINTS) -e ".[$(EXTRAS)]" $(STALE)
	$(PY) -m vqlab.check $(EXTRAS)
	touch $(STAMP)

$(LAB_SETTINGS): lab/overrides.json $(STAMP)
	mkdir -p $(dir $@) && cp lab/overrides.json $@

$(KERNEL_SPEC): $(STAMP)
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null

install: $(STAMP) $(LAB_SETTINGS) $(KERNEL_SPEC)

# The extension manager reads only what is installed (readonly): a lab room offline or behind a proxy makes no
# PyPI request when its panel opens.
lab: $(STAMP) $(LAB_SETTINGS) $(KERNEL_SPEC)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --LabApp.extension_manager=readonly $(ROOT_ARGS) $(LAB_ARGS)

UNIT_PREFIX ?=
unit: $(STAMP)
	$(UNIT_PREFIX) $(PY) -m pytest tests -q -m "not course and not browser and not distributed" -n auto

# The notebook checks (nbval here, tests/test_notebooks.py, the course tests) read the notebooks as committed
# (git HEAD), so a notebook a student ran and saved does not turn them red; NOTEBOOKS_FROM=worktree checks the
# working copy instead (developers, before committing). Outside a git checkout the working copy is used.
NOTEBOOKS_FROM ?= HEAD
export VQLAB_NOTEBOOKS := $(NOTEBOOKS_FROM)
NB_CHECKED := _build/checked
notebooks: $(STAMP) $(KERNEL_SPEC)
	rm -rf $(NB_CHECKED) && mkdir -p $(NB_CHECKED)
	if [ "$(NOTEBOOKS_FROM)" = HEAD ] && git rev-parse -q --verify HEAD >/dev/null 2>&1; then \
	  git archive HEAD notebooks | tar -x -C $(NB_CHECKED); else cp -r notebooks $(NB_CHECKED)/; fi
	$(PY) -m pytest --nbval --nbval-current-env --nbval-cell-timeout=600 -q \
	    --nbval-sanitize-with $(NB_CHECKED)/notebooks/nbval_sanitize.cfg $(NB_CHECKED)/notebooks/[0-9][0-9]_*.ipynb

# A pristine notebook (and its .py pair) back from git HEAD: make reset NB=notebooks/03_soft_vq_vae.ipynb
reset:
	@test "$(origin NB)" = "command line" || { echo "say which notebook: make reset NB=notebooks/03_soft_vq_vae.ipynb"; exit 1; }
	@for f in $(NB); do stem=$${f%.*}; git checkout HEAD -- $$stem.ipynb $$stem.py && echo "restored $$stem.ipynb"; done

# The unit tests (no Jupyter kernels) and the notebooks (one kernel at a time) side by side on the two cores;
# each one's report is printed when it ends. The notebooks take longer, so the unit tests run niced: they
# fill the core the notebooks leave.
test: $(STAMP) $(KERNEL_SPEC)
	@echo "unit tests and notebooks run side by side; each report appears when it ends (about 6 min in all)"
	@$(MAKE) --no-print-directory -j2 --output-sync=target unit notebooks UNIT_PREFIX="nice -n 10"

# Course lab (otter-grader): student versions and local grading; see README "Teaching with vqlab".
student: $(STAMP)
	$(PY) -m vqlab.course student --out dist
# Every submission runs in a bubblewrap sandbox (vqlab/course/sandbox.py); bwrap comes from the system.
BWRAP_CHECK = command -v bwrap >/dev/null || { echo "make $@ runs every submission in a bubblewrap sandbox and \
	bwrap is missing: install the package bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap)"; exit 1; }
# make grade SUBMISSIONS=dir [JOBS=N (default: every core)] [MEMORY=4G] [TIMEOUT=900 (s)] [REGRADE=1]
SUBMISSIONS ?= submissions
grade: $(STAMP)
	@$(BWRAP_CHECK)
	@test -d "$(SUBMISSIONS)" || { echo "make grade SUBMISSIONS=dir: $(SUBMISSIONS)/ is not a folder of notebooks"; exit 1; }
	$(PY) -m vqlab.course grade $(SUBMISSIONS) --autograder dist/autograder --csv dist/grades.csv \
	    $(if $(JOBS),--jobs $(JOBS)) $(if $(MEMORY),--memory $(MEMORY)) $(if $(TIMEOUT),--timeout $(TIMEOUT)) \
	    $(if $(REGRADE),--regrade)
# Instructors/CI: student versions run to the end with every check "not yet"; solutions grade full marks through
# the sandbox; the red-team class (tests/course_redteam) leaves the host untouched. Two workers, one per test file
# (--dist loadfile): each file grades its class once (two submissions at a time).
test-course: $(STAMP)
	@$(BWRAP_CHECK)
	$(PY) -m pytest tests -q -m course -n 2 --dist loadfile

# The book extra (pyproject.toml) on top of the lab install.
$(BOOK_STAMP): $(STAMP)
	$(PY) $(PIP_INSTALL) $(OFFLINE) -c $(CONSTRAINTS) -e ".[book]" $(STALE)
	$(PY) -c "import sphinx, myst_nb"
	touch $(BOOK_STAMP)

# Static HTML book from the notebooks' stored outputs (nothing is executed, no network needed; book/conf.py).
# Any warning, e.g. a broken internal link, fails the build.
book: $(BOOK_STAMP)
	$(PY) -m sphinx -b html -W --keep-going -q -c book . _build/book/html

# CI: the book's tests (tests/test_book.py, skipped where the book extra is missing) on what `make book` built:
# a page per notebook with every stored figure and widget picture, a reference page per module; and a broken
# internal link fails a build.
test-book: book
	VQLAB_BOOK_HTML=_build/book/html $(PY) -m pytest tests/test_book.py -q

# The browser extra (Playwright, driving the system Chromium; no browser download) on top of the lab install.
$(BROWSER_STAMP): $(STAMP)
	$(PY) $(PIP_INSTALL) $(OFFLINE) -c $(CONSTRAINTS) -e ".[browser]" $(STALE)
	$(PY) -c "import playwright.sync_api"
	touch $(BROWSER_STAMP)

# Every notebook in a headless JupyterLab + Chromium (tests/browser): run all, drive every widget (latency
# table), save, reopen. Needs chromium on PATH (Debian/Ubuntu: apt-get install chromium).
test-browser: $(BROWSER_STAMP) $(LAB_SETTINGS) $(KERNEL_SPEC)
	$(PY) -m pytest tests/browser -q -s -m browser

# The distributed extra (Dask) on top of the lab install.
$(DISTRIBUTED_STAMP): $(STAMP)
	$(PY) $(PIP_INSTALL) $(OFFLINE) -c $(CONSTRAINTS) -e ".[distributed]" $(STALE)
	$(PY) -c "import dask.distributed"
	touch $(DISTRIBUTED_STAMP)

# Issue 28: trials on a process pool and a 2-worker Dask LocalCluster give the serial table; data-parallel
# training on 1, 2, 4 gloo ranks is the serial run (tests marked distributed). Their processes wait on each
# other, so they run apart from the unit tests (CI: .ci/run).
test-distributed: $(DISTRIBUTED_STAMP)
	$(PY) -m pytest tests -q -m distributed

clean:
	rm -rf $(VENV)

# Every wheel the project needs on this platform and Python at the course machines' versions, with the build
# backend pyproject.toml names, so pip's isolated build of vqlab runs offline too (needs a network).
BUILD_REQUIRES := import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"])
wheelhouse:
	@$(CHECK_PYTHON)
	$(PYTHON) -m pip download --quiet --disable-pip-version-check --only-binary=:all: --dest $(WHEELHOUSE) \
	    -c $(CONSTRAINTS) ".[$(EXTRAS),book,browser,distributed]" $$($(PYTHON) -c '$(BUILD_REQUIRES)')

# The declared minimum versions (constraints/floors.txt, from the registry) in a throw-away venv, unit tests.
FLOORS_VENV ?= /tmp/vqlab-floors-venv
test-floors:
	@$(CHECK_PYTHON)
	rm -rf $(FLOORS_VENV) && $(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python $(PIP_INSTALL) -c constraints/floors.txt -e ".[$(EXTRAS)]"
	$(FLOORS_VENV)/bin/python -m pip list --format=freeze --disable-pip-version-check > $(FLOORS_VENV)/installed.txt
	$(FLOORS_VENV)/bin/python -m vqlab.check $(EXTRAS)
	$(FLOORS_VENV)/bin/python -m pytest tests -q -m "not course and not browser and not distributed" --basetemp=$(FLOORS_VENV)/tmp \
	    --deselect tests/test_install.py::test_offline_install_from_wheelhouse  # that one: make test

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
