# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test install install-dev lint check browser bench demo screens clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen --no-dev --python $(PYTHON)

install-dev: $(UV)
	$(UV) sync --frozen --python $(PYTHON)

## make run: install, create the SQLite database with the demo plant on first start, serve :8000
## (`isom serve` without --demo, as in production, creates no user and no known password)
run: install
	$(BIN)/isom serve --demo --host 127.0.0.1 --port 8000

## make test: install what the tests need and run the whole suite on SQLite and PostgreSQL
test: install-dev browser
	bash scripts/test.sh

browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "could not install chromium: browser tests will skip"; \
	else echo "no chromium and no root: browser tests will skip"; fi

lint: install-dev
	$(BIN)/ruff check isom tests bench
	$(BIN)/ruff format --check isom tests bench
	$(BIN)/mypy isom
	$(BIN)/lint-imports

bench: install-dev
	$(BIN)/python bench/ledger.py

demo: install
	$(BIN)/isom demo

## make screens: photograph every person's screens on the demo plant into docs/screens/
screens: install-dev browser
	$(BIN)/python scripts/screens.py --out docs/screens

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
