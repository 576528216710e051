# Rebond: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/python -m pip --disable-pip-version-check --quiet
# pip and setuptools talk a lot (build-backend notices, index warnings): a newcomer sees one line,
# the details go to .venv/install.log and are shown only if the install fails.
INSTALL = @sh -c 'echo "rebond: installing dependencies into $(VENV) (details: $(VENV)/install.log)..."; \
	$(PIP) install "$$@" >$(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }' install

.PHONY: run install test check lint bench clean browser

# The venv is (re)built when missing; the project is reinstalled when pyproject.toml changes.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Rebond needs Python 3.11 or newer (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	@echo "rebond: creating $(VENV)..."
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip >/dev/null 2>&1 || true

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(INSTALL) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(INSTALL) -e '.[test]'
	@touch $@ $(VENV)/.installed-run

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(INSTALL) -e '.[dev]'
	@touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

## run: start Rebond (Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat)
run: $(VENV)/.installed-run
	@$(BIN)/python -m bot

## install: set up .venv with Rebond and its dependencies, without starting it (servers)
install: $(VENV)/.installed-run

## test: install what the tests need and run the whole suite (one worker per core, up to 4:
## most tests wait on a bot process or a fake Telegram, so two workers halve the time on 2 cores)
test: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest -n auto --maxprocesses=4

## browser: the browser tests' Chromium (the system's: Playwright's own download is not used)
## and axe-core (npm); says in one line how to get them when it cannot install them itself
AXE = $(VENV)/axe/node_modules/axe-core/axe.min.js
browser: | $(BIN)/python
	@command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || [ -n "$$REBOND_CHROMIUM" ] || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; } || \
	  echo "make: no Chromium for the browser tests: install it (Debian/Ubuntu: sudo apt-get install chromium; macOS: brew install --cask chromium) or set REBOND_CHROMIUM=/path/to/chrome"
	@[ -f $(AXE) ] || npm install --silent --no-audit --no-fund --prefix $(VENV)/axe axe-core@4.14.1 >/dev/null || \
	  echo "make: no axe-core for the accessibility test: install Node.js and npm, then run make test again"

## check: validate content/playbook.yaml
check: $(VENV)/.installed-run
	$(BIN)/rebond check

## lint: ruff, mypy (strict), the import contracts (pyproject.toml) and the SQL/clock rules
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy bot storage tools
	$(BIN)/lint-imports
	$(BIN)/python -m tools.rules

## bench: print the benchmark figures
bench: $(VENV)/.installed-test
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
