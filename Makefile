# Every target does its own set-up: uv is installed into .tools/ when it is not on PATH.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen

.PHONY: setup demo serve test lint bench clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

setup: $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen --quiet

demo: setup
	$(RUN) keel demo

lint: setup
	$(RUN) ruff check src tests
	$(RUN) ruff format --check src tests
	$(RUN) mypy

test: lint
	$(RUN) pytest $(PYTEST_ARGS)

bench: setup
	$(RUN) keel bench inventory

clean:
	rm -rf .keel .venv .tools .mypy_cache .ruff_cache .pytest_cache test-artifacts
