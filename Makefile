# Rebond: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: run test check lint bench clean

# The venv is (re)built when missing; the project is reinstalled when pyproject.toml changes.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Rebond needs Python 3.11 or newer (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.installed-run

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

## run: start Rebond (Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat)
run: $(VENV)/.installed-run
	$(BIN)/python -m bot

## test: install what the tests need and run the whole suite
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
