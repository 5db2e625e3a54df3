# pushctl: `make demo` and `make test` each build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint lint-ci typecheck layers unit browser screenshot bench soak mutate dist clean

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

# What ships to CI users: the action, the templates and the examples, checked offline against
# the schemas vendored in check-jsonschema, and by zizmor's offline audits.
CI_WORKFLOWS := examples/ci/github-actions.yml reconciler/cli/scaffold/github-workflow.yml
CI_GITLAB := examples/ci/gitlab-ci.yml templates/gitlab/pushctl.gitlab-ci.yml
lint-ci: $(DEV_STAMP)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(CI_WORKFLOWS)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.gitlab-ci $(CI_GITLAB)
	$(BIN)/zizmor --offline --no-progress --config zizmor.yml action.yml $(CI_WORKFLOWS)

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

layers: $(DEV_STAMP)
	$(BIN)/lint-imports

unit: $(DEV_STAMP)
	$(BIN)/pytest

test: lint lint-ci typecheck layers browser unit

# The long variants of the reliability tests: the full crash matrix, more lock trials, the
# proving ground's longer sequences, and the manifest fuzzer at SOAK_SCALE times its inputs.
SOAK_SCALE ?= 20
soak: $(DEV_STAMP)
	PUSHCTL_SOAK=1 $(BIN)/pytest tests/e2e/test_crash_matrix.py tests/e2e/test_lock_signals.py \
		tests/e2e/test_lock_backends.py tests/engine/test_proving_ground.py
	PUSHCTL_FUZZ_SCALE=$(SOAK_SCALE) $(BIN)/pytest tests/fuzz

# The HTML plan is checked in a real headless browser (Debian's chromium); install it if missing.
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# Redraw the README's picture of the HTML plan.
screenshot: $(STAMP) browser
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/screenshot.sh

# Whole processes as users run them (the table of targets), a repository a year old, then
# the in-process figures.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.whole_process
	$(BIN)/python -m benchmarks.year_scale
	$(BIN)/python -m benchmarks.plan_scale
	$(BIN)/python -m benchmarks.apply_scale

# A wheel and an sdist in dist/, checked as PyPI would check them.
dist: $(DEV_STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# Mutation testing (mutmut) over the modules listed in pyproject.toml [tool.mutmut]; long, so
# never part of `make test`. `make mutate MUTANTS='reconciler.domain.planner*'` runs a subset.
MUTANTS ?=
mutate: $(DEV_STAMP)
	$(BIN)/mutmut run $(MUTANTS)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .pushctl .mypy_cache .ruff_cache .pytest_cache dist build mutants
