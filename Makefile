# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.installed-base
STAMP := $(VENV)/.installed
DEMO_GOAL ?= a 3-scene bedtime story about a cat and a dog
DEMO_WORKSPACE ?= $(CURDIR)/.demo-workspace

.PHONY: install demo test check bench clean

# `make demo` needs the package alone; `make test` and `make bench` add the dev and cluster extras
# (Ray, moto, Playwright and the rest), which a first run does not need.
$(BASE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools' editable mode always prints a notice about same-named folders (a UserWarning);
	@# the non-editable build is checked for real warnings by tests/test_install.py.
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet -e .
	touch $(BASE)

$(STAMP): $(BASE)
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet -e '.[dev,cluster]'
	touch $(STAMP)

# LangGraph's own server (`langgraph dev`) pins an older jsonschema-rs than schemathesis needs, so it
# lives in a venv of its own that sees this one's packages (its own come first); the cluster test
# tests/test_langgraph_server.py starts it from there. Without a registry it is skipped, saying so.
LG_VENV := .venv-langgraph
LG_STAMP := $(LG_VENV)/.installed

$(LG_STAMP): $(STAMP)
	$(PYTHON) -m venv $(LG_VENV)
	echo "import site; site.addsitedir('$$($(BIN)/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")')" \
		> "$$($(LG_VENV)/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/_director_venv.pth"
	$(LG_VENV)/bin/python -m pip install --quiet 'langgraph-cli[inmem]>=0.4' 2>&1 | grep -v 'dependency\|schemathesis' || true
	$(LG_VENV)/bin/langgraph --version >/dev/null && touch $(LG_STAMP) || echo "langgraph-cli did not install: its test is skipped"

install: $(STAMP)

demo: $(BASE)
	$(BIN)/director make "$(DEMO_GOAL)" --backend local --workspace "$(DEMO_WORKSPACE)"
	@echo "next: put director on your PATH with '. $(VENV)/bin/activate', then try:"
	@echo "  director runs --workspace $(DEMO_WORKSPACE)"
	@echo "  director make \"a 3-scene story about a fox and an owl\" --approve"

# Two workers on the machine's two cores, and the 20 slowest tests named at the end (where the time goes); one test
# file or -k runs alone: .venv/bin/python -m pytest -q FILE
test: $(STAMP) $(LG_STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --max-worker-restart=0 --durations=20

# The inner loop, in under three minutes: lint (ruff), types (mypy, with pydantic's plugin) and the tests that
# encode no video and start no server (`make test` runs them all).
check: $(STAMP)
	$(BIN)/ruff check director tools tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not cluster and not live" -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(LG_VENV) $(DEMO_WORKSPACE) build dist *.egg-info .pytest_cache
