# The two set-up commands: `make run` (the service on an embedded SQLite file) and `make test`.

CARGO ?= cargo
BIN := target/debug/workflows-api
# Where the PostgreSQL tests make their throw-away databases. When this is set explicitly, an
# unreachable server fails the tests instead of skipping them (CI sets it).
PG_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run build test test-browser screenshots test-schemathesis fuzz bench bench-scale bench-http bench-analytics bench-engine bench-check bench-tools bench-pg migrate lint fmt doc clean

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

# Benchmarks (release build, PostgreSQL, wrk and pgbench); results in bench/results/ and
# bench/RESULTS.md, findings in bench/README.md. Never part of `make test`.
# The quick run: 10,000 workflows; `make bench-scale` seeds 1,000,000 workflows / 5,000,000 runs.
# Loopback without TLS for the service and pgbench alike (BENCH_URL), so neither pays for it.
BENCH_URL ?= $(PG_ADMIN_URL)?sslmode=disable
BENCH_WORKFLOWS ?= 10000
BENCH_SECONDS ?= 10
# The engine's backlog: 10,000 runs keep each drain 5-10 s long; 2,000 ended within 1.5-2.5 s, so the
# workers' start weighed in and 4 workers measured 904-1,478 runs/s on one build (finding 27).
ENGINE_RUNS ?= 10000

bench: bench-tools bench-pg
	$(CARGO) build --release -p workflows-bench -p workflows-api
	target/release/http-bench --admin-url "$(BENCH_URL)" --workflows $(BENCH_WORKFLOWS) --seconds $(BENCH_SECONDS)
	$(MAKE) bench-analytics
	target/release/engine-bench "$(BENCH_URL)" $(ENGINE_RUNS) bench/results
	bench/assemble.sh

# The analytics store calls on a freshly seeded database (the HTTP scenarios add rows to theirs),
# one per size, so the quick run does not drop the scale run's.
ANALYTICS_DB = wf_bench_analytics_$(BENCH_WORKFLOWS)
bench-analytics: bench-pg
	$(CARGO) build --release -p workflows-bench -p workflows-api
	psql "$(PG_ADMIN_URL)" -qc 'DROP DATABASE IF EXISTS $(ANALYTICS_DB) WITH (FORCE)' -c 'CREATE DATABASE $(ANALYTICS_DB)'
	DATABASE_URL="$(dir $(PG_ADMIN_URL))$(ANALYTICS_DB)" target/release/workflows-api migrate up
	psql "$(dir $(PG_ADMIN_URL))$(ANALYTICS_DB)" -q -v workflows=$(BENCH_WORKFLOWS) -v runs=$$(($(BENCH_WORKFLOWS) * 5)) -f bench/seed.sql
	{ printf '## Analytics store calls at %s workflows (`make bench-analytics`)\n\n' $(BENCH_WORKFLOWS); \
	  target/release/analytics-bench "$(dir $(PG_ADMIN_URL))$(ANALYTICS_DB)?sslmode=disable"; } > bench/results/analytics-$(BENCH_WORKFLOWS).md

# BENCH_REUSE=yes measures again on the scale database an earlier run seeded.
BENCH_REUSE ?= no
bench-scale: bench-tools
	$(MAKE) bench-http BENCH_WORKFLOWS=1000000 BENCH_SECONDS=$(BENCH_SECONDS) BENCH_REUSE=$(BENCH_REUSE)
	{ printf '## Analytics store calls at 1000000 workflows (`make bench-scale`: median of 3, on the HTTP scenarios'"'"' database, which they grew by a few per cent)\n\n'; \
	  target/release/analytics-bench "$(dir $(PG_ADMIN_URL))wf_bench_http_1000000?sslmode=disable" 3; } > bench/results/analytics-1000000.md
	bench/assemble.sh

bench-http: bench-tools bench-pg
	$(CARGO) build --release -p workflows-bench -p workflows-api
	target/release/http-bench --admin-url "$(BENCH_URL)" --workflows $(BENCH_WORKFLOWS) --seconds $(BENCH_SECONDS) --reuse $(BENCH_REUSE)

bench-engine: bench-pg
	$(CARGO) build --release -p workflows-bench
	target/release/engine-bench "$(BENCH_URL)" $(ENGINE_RUNS) bench/results
	bench/assemble.sh

# Compares bench/results with the targets (ratios to pgbench, p99, errors, RSS, scale, engine).
bench-check:
	$(CARGO) build --release -p workflows-bench
	target/release/bench-check

# PostgreSQL's shared_buffers sized for the benchmark's data (a quarter of memory; restarts the
# machine's cluster once, see bench/pg-server.sh).
bench-pg:
	PG_ADMIN_URL="$(PG_ADMIN_URL)" bench/pg-server.sh

bench-tools:
	@command -v wrk >/dev/null 2>&1 && command -v pgbench >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk postgresql-client)

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
