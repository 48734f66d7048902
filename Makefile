# Two commands on a fresh machine:  `make lab` starts the course, `make test` runs every test.
# Both create .venv when missing and install only when pyproject.toml or the pins changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
PORT ?= 8888
PYTEST_ARGS ?=
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test test-fast lint notebooks bench doctor hub constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml $(CONSTRAINTS) scripts/install_torch.sh
	bash scripts/install_torch.sh $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed scripts/install_browser.sh scripts/install_sandbox.sh \
		scripts/install_hub.sh scripts/apt_install.sh
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	bash scripts/install_browser.sh
	bash scripts/install_sandbox.sh
	bash scripts/install_hub.sh $(VENV)
	touch $@

$(VENV)/.installed-hub: $(VENV)/.installed scripts/install_hub.sh scripts/apt_install.sh
	bash scripts/install_hub.sh $(VENV)
	touch $@

lab: $(VENV)/.installed  ## install if needed, then start JupyterLab on notebooks/
	$(BIN)/course-utils doctor || true
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) --no-browser $(ROOT_FLAG)

test: $(VENV)/.installed-test  ## install if needed, then run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

FAST_TIER := not notebook and not grading and not browser and not hub
test-fast: $(VENV)/.installed-test  ## the unit tier (under 2 minutes): no notebook, grading, browser or hub tests
	$(BIN)/python -m pytest -m "$(FAST_TIER)" $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check course_utils tests scripts notebooks/source

notebooks: $(VENV)/.installed  ## regenerate student and solution notebooks from notebooks/source
	$(BIN)/course-utils build

bench: $(VENV)/.installed  ## time every notebook in quick mode
	$(BIN)/course-utils bench --mode quick --json artifacts/bench.json

doctor: $(VENV)/.installed
	$(BIN)/course-utils doctor

HUB_ROOT ?= /srv/course-hub
hub: $(VENV)/.installed-hub  ## start the one-machine class hub (as root; deploy/README.md)
	@test -x $(BIN)/configurable-http-proxy || { echo "configurable-http-proxy is missing:" \
		"run bash scripts/install_hub.sh $(VENV) where npm can reach its registry" >&2; exit 1; }
	@test -f $(HUB_ROOT)/class.json || { echo "no class yet: sudo $(BIN)/python -m" \
		"course_utils.hub.accounts add --instructor NAME class.txt (deploy/README.md)" >&2; exit 1; }
	JUPYTER_CONFIG_PATH=$(HUB_ROOT)/jupyter COURSE_DATA_DIRS=$(HUB_ROOT)/data \
		$(BIN)/course-utils doctor || true
	COURSE_HUB_ROOT=$(HUB_ROOT) $(BIN)/jupyterhub -f deploy/hub/jupyterhub_config.py

constraints: ## re-pin every package from a fresh environment (maintainers)
	rm -rf .venv-pin && $(PYTHON) -m venv .venv-pin
	bash scripts/install_torch.sh .venv-pin/bin/python
	.venv-pin/bin/python -m pip install --quiet -e '.[test]'
	{ echo "# Exact pins for the container image and CI (pip constraints format)."; \
	  echo "# Regenerate: make constraints  (pip freeze of a fresh .venv, without the course package)"; \
	  .venv-pin/bin/pip freeze --exclude-editable | grep -vi '^course-utils'; } > $(CONSTRAINTS)
	rm -rf .venv-pin

clean:
	rm -rf $(VENV) artifacts .pytest_cache
