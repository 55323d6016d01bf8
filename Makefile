# Two commands set up everything on a fresh machine:
#   make lab    installs the project into .venv and opens the notebooks in JupyterLab
#   make test   installs the project (and Debian's Chromium for the browser test) and runs all tests
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8866

.PHONY: install lab app test bench demo clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

lab: install
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root,)

app: install
	$(VENV)/bin/voila notebooks/07_trainer_demo.ipynb --port $(PORT) --Voila.ip=127.0.0.1

test: install
	bash scripts/ensure-chromium
	bash scripts/run-tests

bench: install
	$(PY) -m twofa_sim.bench

demo: install
	$(VENV)/bin/twofa-sim demo --seed 7

clean:
	rm -rf $(VENV) artifacts .pytest_cache
