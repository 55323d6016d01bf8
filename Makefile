# Two commands set up everything on a fresh machine:
#   make lab    installs the project into .venv and opens the notebooks in JupyterLab
#   make test   installs the project (and Debian's Chromium for the browser test) and runs all tests
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# Python keeps what it compiles (in __pycache__, ignored by git) even where the environment says not to:
# otherwise every kernel, class server and test worker would compile its imports again at each start.
unexport PYTHONDONTWRITEBYTECODE
# PORT chooses the port of `make lab` (default 8888) and `make app` (default 8866).
# etc/jupyter (page_config.json) turns off JupyterLab's "get notified about Jupyter news?" pop-up.

.PHONY: install lab app class screenshots test bench bench-class demo clean

# uv installs the packages pip would install (the same versions) in a fraction of pip's time, fetching
# them side by side, and compiles them on every CPU (about 17 s in all instead of pip's 40 s). Compiled ahead,
# as pip does: a test run starts many kernels, servers and workers at once, and each would compile the
# same modules before any had kept them (a fresh clone's run took 60 CPU-s longer). A file that does not
# compile fails only if imported, as after pip.
# --native-tls: the system's certificates, as pip uses them. Where uv cannot reach the index (pip's own
# settings, such as a company's index in pip.conf, are not uv's), pip installs (and compiles) the packages.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	if $(PY) -m pip install --quiet uv && \
		$(VENV)/bin/uv pip install --quiet --native-tls --compile-bytecode --python $(PY) -e '.[test,peers]'; \
	then :; else echo "uv could not install the packages (it reads no pip.conf): pip installs them instead"; \
		$(PY) -m pip install --quiet -e '.[test,peers]'; fi
	touch $@

# The notebooks are kept as scripts/clean-notebook writes them (.gitattributes): running one leaves git clean.
install: $(VENV)/.installed
	@$(PY) -m compileall -q -j0 twofa_sim
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then git config filter.notebook.clean 'python3 scripts/clean-notebook'; fi

lab: install
	@token=$$($(PY) -c 'import secrets; print(secrets.token_hex(16))'); \
	port=$(or $(PORT),8888); \
	echo; echo "JupyterLab: open http://127.0.0.1:$$port/lab?token=$$token  (start with 01_overview.ipynb)"; echo; \
	JUPYTER_CONFIG_PATH=$(CURDIR)/etc/jupyter $(VENV)/bin/jupyter lab notebooks/ --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=$$port \
		--ServerApp.port_retries=0 --IdentityProvider.token=$$token $(if $(filter 0,$(shell id -u)),--allow-root,)

# The trainer app alone (notebooks/trainer_app.ipynb), offline: voila.json chooses the page
# template in share/jupyter (no CDN) and culls the kernels of closed tabs.
app: install
	@JUPYTER_PATH=$(CURDIR)/share/jupyter $(VENV)/bin/jupyter trust notebooks/trainer_app.ipynb >/dev/null
	@echo; echo "Trainer app: open http://127.0.0.1:$(or $(PORT),8866)/  (German: http://127.0.0.1:$(or $(PORT),8866)/?lang=de)"; \
	echo "  Demonstrating with another user than alice: ?user=bob names the browser after bob."; echo
	JUPYTER_PATH=$(CURDIR)/share/jupyter $(VENV)/bin/voila notebooks/trainer_app.ipynb --no-browser \
		--port=$(or $(PORT),8866) --Voila.ip=127.0.0.1

# Class mode: the trainer's dashboard and the trainees' page (notebooks/class) on ONE class server
# (python -m twofa_sim.server: Voila with class_server.json), on the real time, sharing one back
# office in DB (default: class.sqlite here; a file name or postgresql+psycopg://user:password@host/db).
# HOST=127.0.0.1 keeps the class on this machine. TRAINEES (default 30) kernels are warmed before the
# class arrives. CAP (default twice TRAINEES) bounds the kernels of all pages, dashboards included (the
# trainer's dashboard is still served two pages past it, so a full class never locks the trainer out).
# The trainer's address carries a key made for this run (or TWOFA_SIM_TRAINER_KEY from the environment:
# one key for several servers on one database); trainees' pages cannot act as the trainer.
CLASS_DB = $(or $(DB),$(CURDIR)/class.sqlite)
class: install
	@port=$(or $(PORT),8866); host=$(or $(HOST),0.0.0.0); \
	case "$(CLASS_DB)" in *://*) db="$(CLASS_DB)" ;; /*) db="sqlite:///$(CLASS_DB)" ;; *) db="sqlite:///$(CURDIR)/$(CLASS_DB)" ;; esac; \
	here=$$(hostname -I 2>/dev/null | awk '{print $$1}'); \
	if [ "$$host" = 127.0.0.1 ] || [ -z "$$here" ]; then here=127.0.0.1; fi; \
	key=$${TWOFA_SIM_TRAINER_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(12))')}; \
	trainee="http://$$here:$$port/voila/render/trainee.ipynb"; \
	JUPYTER_PATH=$(CURDIR)/share/jupyter $(VENV)/bin/jupyter trust notebooks/class/trainer.ipynb notebooks/class/trainee.ipynb notebooks/class/projector.ipynb >/dev/null; \
	echo; echo "Class mode, database: $$(echo "$$db" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#')"; \
	echo "  Trainer (keep this address to yourself): http://127.0.0.1:$$port/voila/render/trainer.ipynb?key=$$key"; \
	echo "  Trainees:                                $$trainee"; \
	echo "  Projector (no names, no secrets):        http://$$here:$$port/voila/render/projector.ipynb"; \
	echo "  German: add ?lang=de (trainer: &lang=de). Ctrl-C ends the class; the database stays."; \
	echo "  Warming $(or $(TRAINEES),30) kernels for the trainees: wait for 'Kernel pool of trainee.ipynb is filled'."; echo; \
	TWOFA_SIM_CLASS_DB="$$db" TWOFA_SIM_TRAINER_KEY="$$key" TWOFA_SIM_TRAINEE_URL="$$trainee" \
	JUPYTER_PATH=$(CURDIR)/share/jupyter exec $(PY) -m twofa_sim.server notebooks/class --no-browser \
		--port=$$port --Voila.ip=$$host --Voila.port_retries=0 --class-size=$(or $(TRAINEES),30) \
		$(if $(CAP),--kernel-cap=$(CAP),)

# The README's pictures, taken by the browser test at projector size (1280x720), English and German.
screenshots: install
	SCREENSHOTS_TO=docs/screenshots TZ=UTC $(PY) -m pytest tests/test_browser.py tests/test_class_browser.py -q -p no:cacheprovider

test: install
	bash scripts/ensure-chromium
	bash scripts/ensure-postgresql
	bash scripts/run-tests

bench: install
	$(PY) -m twofa_sim.bench

# A class of 30 opening the class server within one second (against plain Voila in the same run), then
# 30 trainees doing the whole story at once against one SQLite file, and in memory (figures, not a
# test). ARGS passes options, e.g. ARGS="--arrivals 60 --postgres postgresql://..." or ARGS="--only store".
bench-class: install
	$(PY) -m twofa_sim.bench.classroom $(ARGS)

# One refresh of the trainer's dashboard at 1,000 to 40,000 events, against folding the whole log (figures, not a test).
.PHONY: bench-dashboard
bench-dashboard: install
	$(PY) -m twofa_sim.bench.progress

demo: install
	$(VENV)/bin/twofa-sim demo --seed 7

clean:
	rm -rf $(VENV) artifacts .pytest_cache
