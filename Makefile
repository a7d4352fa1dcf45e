# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_GOAL ?= a 3-scene bedtime story about a cat and a dog
DEMO_WORKSPACE ?= $(CURDIR)/.demo-workspace

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools' editable mode always prints a notice about same-named folders (a UserWarning);
	@# the non-editable build is checked for real warnings by tests/test_install.py.
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/director make "$(DEMO_GOAL)" --backend local --workspace "$(DEMO_WORKSPACE)"
	@echo "next: put director on your PATH with '. $(VENV)/bin/activate', then try:"
	@echo "  director runs --workspace $(DEMO_WORKSPACE)"
	@echo "  director make \"a 3-scene story about a fox and an owl\" --approve"

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(DEMO_WORKSPACE) build dist *.egg-info .pytest_cache
