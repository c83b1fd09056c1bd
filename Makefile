# Two entry points, each working on a fresh machine: `make reproduce` and `make test`.
# Both create or refresh .venv, installing with constraints.txt (the CPU torch pin).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: reproduce models counting notebooks lab kernel test export docs clean-venv

$(STAMP): settings.ini setup.py constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $@

## Main job: rerun every experiment of the series (5 seeds each; one run per core, one torch thread each, as the notebooks);
## the report lands in results/ (committed: git diff shows what moved), every trained model in runs/ (not committed);
## then the seed-42 models that notebooks 10, 10a, 11 and 13 load into trained/ (`make models`), and the counting scores of
## the models in runs/ (`make counting`): nothing is trained twice
reproduce: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/humannums reproduce --seeds 5 --out results --keep runs --jobs 0
	$(MAKE) models
	$(MAKE) counting

## The trained models notebooks 10, 10a, 11 and 13 load instead of training them at every run (seed 42, registry
## recipes; a notebook retrains any whose recipe changed): into trained/ (committed), one run per core
models: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -c "from humannums.cache import save_all_trained; save_all_trained('trained', jobs=0)"

## How every language model counts on (13a_counting): the models of seeds 0-4 that `make reproduce` kept in runs/ (any
## missing there is trained), scored by carry kind and prompt format into counting/counting.csv and by the probability
## of the carry into 9,000 into counting/carry.csv; each try at that carry (13b_carry's TRIES), trained (and kept in
## runs/) and scored into counting/tries.csv and tries_carry.csv, all in one pool, one process per core; each try's
## seed 0 copied from runs/ into counting/ for 13b to look inside (all committed); then the counting table goes into
## the reproduce report in results/ (written again from its own runs)
counting: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -c "from humannums.carry import make_counting; make_counting('counting', runs='runs', report='results')"

## The notebook series itself, executed into reproduce/notebooks (outputs kept) through a real Jupyter kernel
## (nbclient + the .venv's ipykernel), one notebook per core at a time, one torch thread each
notebooks: $(STAMP)
	$(BIN)/python tools/run_nbs.py --out reproduce/notebooks

## Read and run the notebooks: JupyterLab on nbs/, kernels from .venv. The notebooks' kernel `python3` is the
## .venv's python in this Jupyter, under the display name the notebooks store (nbdev_clean writes `python3`), so that
## opening a notebook changes nothing in it; the kernel `humannums` (installed into .venv) names it in the launcher.
## A save from JupyterLab goes through nbdev_clean (nbdev's pre-save hook, `jupyter_hooks` in settings.ini).
## Extra options: make lab LAB_ARGS="--no-browser --port=8899"
LAB_ARGS ?=
lab: kernel
	$(BIN)/jupyter lab --ServerApp.root_dir=nbs --FileContentsManager.pre_save_hook=nbdev.clean.clean_jupyter $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

kernel: $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name python3 >/dev/null
	$(BIN)/python -m ipykernel install --sys-prefix --name humannums --display-name "Python (humannums .venv)" >/dev/null

## Every test: notebooks (nbdev_test, one per core at a time, one torch thread each) then pytest
test: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --timing
	$(BIN)/python -m pytest -q tests

## The docs site, offline, into _docs/ (open _docs/index.html)
docs: $(STAMP)
	$(BIN)/python tools/build_docs.py

export: $(STAMP)
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean && $(BIN)/python tools/nb2md.py nbs/index.ipynb README.md

clean-venv:
	rm -rf $(VENV)
