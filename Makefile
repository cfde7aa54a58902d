# Two commands for a newcomer (Python 3.11+ and Java 17 on PATH):
#   make run    trains on the built-in default (conf/train.toml); ARGS="--set k=v" to override
#   make test   runs the test suite (pytest)
#   make package  builds what a cluster needs into dist/ (wheel, sparklr.zip for --py-files,
#               sparklr-env.tar.gz for --archives); see docs/deployment.md
# Both create .venv and install the project into it on first use.

PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.sparklr-installed

.PHONY: run test lint package clean

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

package: $(STAMP)
	$(VENV)/bin/python -m pip install --quiet -e '.[package]'
	$(VENV)/bin/python .ci/package.py $(PACKAGE_ARGS)

clean:
	rm -rf $(VENV) out dist .pytest_cache
