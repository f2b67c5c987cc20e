# The two commands a new user needs:  make run   and   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast lint bench bench-tools clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run the proxy on 127.0.0.1:2525 (review console on 127.0.0.1:8025); mail goes to var/outbox/
run: $(STAMP)
	$(BIN)/sendguard serve

## the whole test suite (SMTP on loopback, PostgreSQL when reachable, headless Chromium when installed)
test: $(STAMP)
	$(BIN)/python -m pytest -q

## the same without the tests marked slow (corpus sweeps, subprocess serve/CLI, the browser)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check scanner tests benchmarks
	$(BIN)/ruff format --check scanner tests benchmarks
	$(BIN)/mypy
	$(BIN)/mypy benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.accuracy
	$(BIN)/python -m benchmarks.engine
	$(BIN)/python -m benchmarks.proxy

## Postfix's smtp-sink (C) for benchmarks.proxy, unpacked from Debian's package into .bench-tools/
bench-tools:
	sh benchmarks/get-smtp-sink.sh

clean:
	rm -rf $(VENV) var build dist .pytest_cache .mypy_cache .ruff_cache
