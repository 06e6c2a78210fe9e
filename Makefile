# lapor-intake: `make run` serves, `make test` runs every test. Both set everything up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

CHROMIUM := /usr/bin/chromium

.PHONY: install browser run chat test check bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install            ## migrate, then serve on http://127.0.0.1:8000 (SQLite, local registry)
	$(BIN)/lapor db upgrade
	$(BIN)/lapor serve

chat: install           ## file a complaint from the terminal
	$(BIN)/lapor chat

browser:                ## Debian's chromium for the admin browser tests (Playwright drives it; no download)
	@test -x $(CHROMIUM) || { command -v apt-get >/dev/null && \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || \
	    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }; }; } || \
	  echo "chromium could not be installed: the browser tests will fail in CI and be skipped elsewhere" >&2

test: install browser   ## every test, against SQLite and PostgreSQL, and in chromium
	$(BIN)/python -m pytest

check: install          ## validate the dialog scripts
	$(BIN)/lapor dialogs check

bench: install          ## the whole benchmark: load, ceiling, faults, soak, fuzz -> docs/BENCHMARKS.md (about 30 min)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis *.egg-info
