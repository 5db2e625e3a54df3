# pushctl: `make demo` and `make test` each build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck layers unit bench soak mutate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check reconciler tests benchmarks
	$(BIN)/ruff format --check reconciler tests benchmarks

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

layers: $(DEV_STAMP)
	$(BIN)/lint-imports

unit: $(DEV_STAMP)
	$(BIN)/pytest

test: lint typecheck layers unit

bench: $(STAMP)
	$(BIN)/python -m benchmarks.plan_scale
	$(BIN)/python -m benchmarks.apply_scale

# Long runs: the manifest fuzzer at PUSHCTL_FUZZ_SCALE times the inputs of `make test`.
SOAK_SCALE ?= 20
soak: $(DEV_STAMP)
	PUSHCTL_FUZZ_SCALE=$(SOAK_SCALE) $(BIN)/pytest tests/fuzz

# Mutation testing (mutmut) over the modules listed in pyproject.toml [tool.mutmut]; long, so
# never part of `make test`. `make mutate MUTANTS='reconciler.domain.planner*'` runs a subset.
MUTANTS ?=
mutate: $(DEV_STAMP)
	$(BIN)/mutmut run $(MUTANTS)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .pushctl .mypy_cache .ruff_cache .pytest_cache mutants
