# `make run` and `make test` work on a fresh clone: they create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test test-fast lint check-package bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/mailtrap-lite

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/mypy

# Building the package prints no warning of the build backend (deprecated settings, data folders not declared):
# pip's own notes are lower-case "warning"/"WARNING", setuptools' are "...Warning".
check-package: | $(BIN)/python
	rm -rf build/wheel-check && mkdir -p build/wheel-check
	$(BIN)/pip wheel -v --no-deps -w build/wheel-check . > build/wheel-check/build.log 2>&1
	@if grep -n "Warning" build/wheel-check/build.log; then echo "the package build printed warnings (above)"; exit 1; fi

test: lint
	$(BIN)/pytest -n 4 $(PYTEST_ARGS)

# The quicker lane while working: everything but the tests marked slow and those that drive Chromium.
test-fast: $(VENV)/.test-installed
	$(BIN)/pytest -n 4 -m "not slow and not browser" $(PYTEST_ARGS)

bench: $(VENV)/.test-installed
	$(BIN)/python -m bench

# The reliability run behind the README's figures (a few minutes): regular senders, poison and huge messages,
# slow-loris SMTP and HTTP sockets, websocket clients and API readers at once (`python -m bench.soak --quick`: about
# a minute); then the fuzz tests with 2,000 inputs each.
soak: $(VENV)/.test-installed
	$(BIN)/python -m bench.soak
	MAILTRAP_FUZZ_EXAMPLES=2000 $(BIN)/pytest -q -p no:randomly --timeout 1800 tests/test_fuzz_mime.py tests/test_fuzz_smtp.py

clean:
	rm -rf $(VENV) build *.egg-info test-artifacts
