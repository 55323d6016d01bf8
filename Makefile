# Two commands set up everything on a fresh machine:
#   make lab    installs the project into .venv and opens the notebooks in JupyterLab
#   make test   installs the project (and Debian's Chromium for the browser test) and runs all tests
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# PORT chooses the port of `make lab` (default 8888) and `make app` (default 8866).

.PHONY: install lab app screenshots test bench bench-class demo clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

lab: install
	@token=$$($(PY) -c 'import secrets; print(secrets.token_hex(16))'); \
	port=$(or $(PORT),8888); \
	echo; echo "JupyterLab: open http://127.0.0.1:$$port/lab?token=$$token  (start with 01_overview.ipynb)"; echo; \
	$(VENV)/bin/jupyter lab notebooks/ --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=$$port \
		--ServerApp.port_retries=0 --IdentityProvider.token=$$token $(if $(filter 0,$(shell id -u)),--allow-root,)

# The trainer app alone (notebooks/trainer_app.ipynb), offline: voila.json chooses the page
# template in share/jupyter (no CDN) and culls the kernels of closed tabs.
app: install
	@JUPYTER_PATH=$(CURDIR)/share/jupyter $(VENV)/bin/jupyter trust notebooks/trainer_app.ipynb >/dev/null
	@echo; echo "Trainer app: open http://127.0.0.1:$(or $(PORT),8866)/  (German: http://127.0.0.1:$(or $(PORT),8866)/?lang=de)"; echo
	JUPYTER_PATH=$(CURDIR)/share/jupyter $(VENV)/bin/voila notebooks/trainer_app.ipynb --no-browser \
		--port=$(or $(PORT),8866) --Voila.ip=127.0.0.1

# The README's pictures, taken by the browser test at projector size (1280x720), English and German.
screenshots: install
	SCREENSHOTS_TO=docs/screenshots TZ=UTC $(PY) -m pytest tests/test_browser.py -q -p no:cacheprovider

test: install
	bash scripts/ensure-chromium
	bash scripts/ensure-postgresql
	bash scripts/run-tests

bench: install
	$(PY) -m twofa_sim.bench

# 30 trainees doing the whole story at once against one SQLite file, and in memory (figures, not a test).
bench-class: install
	$(PY) -m twofa_sim.bench.classroom

demo: install
	$(VENV)/bin/twofa-sim demo --seed 7

clean:
	rm -rf $(VENV) artifacts .pytest_cache
