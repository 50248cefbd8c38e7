# The two set-up commands: `make run` (the service on an embedded SQLite file) and `make test`.

CARGO ?= cargo
BIN := target/debug/workflows-api
# Where the PostgreSQL tests make their throw-away databases. When this is set explicitly, an
# unreachable server fails the tests instead of skipping them (CI sets it).
PG_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run build test test-browser screenshots test-schemathesis fuzz bench-engine bench-analytics migrate lint fmt doc clean

run: build
	$(BIN) migrate up
	$(BIN) serve --with-worker

build:
	$(CARGO) build -p workflows-api

test:
	@if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -d "$(PG_ADMIN_URL)"; then \
		echo "PostgreSQL is up at $(PG_ADMIN_URL): every store and API test runs on SQLite and PostgreSQL."; \
	else \
		echo ""; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		echo "!!  PostgreSQL is NOT reachable at $(PG_ADMIN_URL)"; \
		echo "!!  PostgreSQL tests will be SKIPPED (set WORKFLOWS_TEST_POSTGRES_URL to require)."; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		echo ""; \
	fi
	$(CARGO) test --workspace

# The admin end to end in headless Chromium (Debian's chromium and chromium-driver, installed here
# when missing), on SQLite and PostgreSQL.
test-browser:
	@command -v chromedriver >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)
	$(CARGO) test -p workflows-api --test browser -- --ignored --test-threads=1

# Regenerates docs/admin-*.png from the browser test.
screenshots:
	UPDATE_SCREENSHOTS=1 $(CARGO) test -p workflows-api --test browser -- --ignored --exact admin_in_a_browser_on_sqlite

# Schema-driven fuzzing (schemathesis from PyPI, in .venv/) of the running service, on both backends.
test-schemathesis: build
	tests/schemathesis/run.sh sqlite
	tests/schemathesis/run.sh postgres

# cargo-fuzz targets for the DAG parser, the slug rule and workflow bodies, FUZZ_SECONDS each
# (installs cargo-fuzz when missing; runs on the stable toolchain, without a sanitizer).
FUZZ_SECONDS ?= 30
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

# Engine throughput and execute-to-running latency on PostgreSQL (release build); see bench/RESULTS.md.
bench-engine:
	$(CARGO) build --release -p workflows-bench
	target/release/engine-bench $(PG_ADMIN_URL) 2000

# Analytics response times on a seeded PostgreSQL database (bench/seed.sql); the scale run is
# `make bench-analytics BENCH_WORKFLOWS=1000000 BENCH_RUNS=5000000`. See bench/RESULTS.md.
BENCH_WORKFLOWS ?= 10000
BENCH_RUNS ?= 50000
BENCH_DB ?= wf_bench_analytics
bench-analytics:
	$(CARGO) build --release -p workflows-bench -p workflows-api
	psql "$(PG_ADMIN_URL)" -qc 'DROP DATABASE IF EXISTS $(BENCH_DB) WITH (FORCE)' -c 'CREATE DATABASE $(BENCH_DB)'
	DATABASE_URL="$(dir $(PG_ADMIN_URL))$(BENCH_DB)" target/release/workflows-api migrate up
	psql "$(dir $(PG_ADMIN_URL))$(BENCH_DB)" -q -v workflows=$(BENCH_WORKFLOWS) -v runs=$(BENCH_RUNS) -f bench/seed.sql
	target/release/analytics-bench "$(dir $(PG_ADMIN_URL))$(BENCH_DB)"

migrate: build
	$(BIN) migrate up

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc -p workflows-domain --no-deps

clean:
	rm -rf data
