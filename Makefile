# pendo-elt: everything a fresh machine with Python 3.11 and make needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export RUNTIME__DLTHUB_TELEMETRY := false

.PHONY: install demo test test-all lint bench clean browser

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(BIN)/pendo-elt demo

# Test files run on 3 workers: most of the time goes to simulator and database subprocesses, not to our CPU.
PYTEST := $(BIN)/python -m pytest -q -n 3 --dist loadfile

test: install browser
	$(PYTEST) -m "not slow"

test-all: install browser
	$(PYTEST)

# The report test opens the page in headless Chromium (Debian's chromium package); installed once, quietly, as root.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium missing: install Debian's chromium package (as root: make browser)"; }

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info pendo.duckdb
