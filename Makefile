# Two commands for a newcomer (Python 3.11+ and Java 17 on PATH):
#   make run    trains on the built-in default (conf/train.toml); ARGS="--set k=v" to override
#   make test   runs the test suite (pytest)
# Both create .venv and install the project into it on first use.

PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.sparklr-installed

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python jobs/train.py $(ARGS)

test: $(STAMP)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) out .pytest_cache
