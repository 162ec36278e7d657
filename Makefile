# rex_pipeline — two commands: `make run` and `make test`. Only python3 (>= 3.11) and make needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster

.PHONY: install run test dev lint bench clean

CONTACTS ?= 1000000
MESSAGES ?= 200000

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

$(DAGSTER_HOME)/dagster.yaml: dagster.instance.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.instance.yaml $@

## Materialise every asset on the inbox (data/inbox by default), then print a summary.
run: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster asset materialize -m rex_pipeline.definitions --select '*'
	$(BIN)/rex summary

## Lint and run the test suite, one pytest worker per CPU (pytest-xdist).
test: install
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n auto

## The Dagster UI (webserver + daemon: schedules and the inbox sensor) on http://127.0.0.1:3000
dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

## The whole pipeline at scale: a seeded inbox of CONTACTS rows and MESSAGES mails, run headless
## (full, re-run, increment); per-step seconds, rows/s, peak memory. BENCH_ARGS=--profile etc.
bench: $(VENV)/.bench-installed
	$(BIN)/python -m benchmarks.bench --contacts $(CONTACTS) --messages $(MESSAGES) $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .dagster data/rex.duckdb data/.rex.work.duckdb* .pytest_cache
