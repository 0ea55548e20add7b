# Every target bootstraps .venv itself: on a fresh machine with Python >= 3.11 and make, `make run` and
# `make test` need no other step.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint codegen bench bench-service e2e fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: validate the bundled examples and print the report (exit status 1 is expected: some are invalid)
run: install
	$(BIN)/caliper-schema validate examples/ || test $$? -eq 1
	@echo "(The files of examples/invalid/ are invalid on purpose: they show what the validator reports.)"

## test: the whole suite, lint and type check included
test: install lint
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

codegen: install
	$(BIN)/python -m codegen

## bench: the validator side by side with its baselines, a million-event stream under prlimit, --jobs 2
## against --jobs 1, then the service's load test
bench: install
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.streams
	$(BIN)/python -m benchmarks.jobs
	$(BIN)/python -m benchmarks.service

## bench-service: the load test alone: 16 concurrent clients x 100 envelopes against caliper-schema serve
bench-service: install
	$(BIN)/python -m benchmarks.service

## e2e: start the service, post the examples, screenshot its page with headless Chromium into build/
## (not part of make test; installs Debian's chromium when it is missing)
e2e: install
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m tests.e2e_page

## fuzz: coverage-guided fuzzing with atheris for FUZZ_SECONDS, library and command line, inputs shaped up to
## several MB; any exception, traceback, forged output line or RSS above 2 GB stops it (not part of make test)
FUZZ_SECONDS ?= 600
fuzz: install
	$(BIN)/python -m pip install --quiet atheris==3.0.0
	mkdir -p .fuzz-corpus .fuzz-artifacts
	cp examples/valid/*.json examples/valid/*.jsonl examples/invalid/* .fuzz-corpus/
	$(BIN)/python fuzz/fuzz_validate.py -max_total_time=$(FUZZ_SECONDS) -max_len=4194304 -timeout=300 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=.fuzz-artifacts/ .fuzz-corpus

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist .fuzz-corpus .fuzz-artifacts
