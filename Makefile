# The few commands a contributor needs. Each creates .venv and installs into it when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8866

.PHONY: demo test lint bench serve venv clean screenshots

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fahuo-kit needs Python 3.11 or newer; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,postgres]'
	touch $(STAMP)

venv: $(STAMP)

## make demo: the demo shop in ./var/kit.db, then the dashboards on http://127.0.0.1:$(PORT)/
demo: $(STAMP)
	$(BIN)/kit demo
	$(BIN)/kit serve --port $(PORT)

## make test: every test this machine allows (PostgreSQL and browser tests skip without them)
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

## make bench: kit vs floor vs naive, written to benchmarks/RESULTS.md
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## make screenshots: every desk in Chromium, screenshots kept in docs/screenshots/ for the README
screenshots: $(STAMP)
	KIT_SCREENSHOTS=docs/screenshots KIT_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -m browser

serve: $(STAMP)
	$(BIN)/kit serve --port $(PORT)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
