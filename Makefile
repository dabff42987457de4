# spaps: the two commands are `make demo` and `make test`; both bootstrap uv.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
# Never download a Python build: the machine's Python 3.11+ is used.
export UV_PYTHON_DOWNLOADS := never
# Evaluated at each use, so it sees a uv that `bootstrap` has just installed.
UV = $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN = $(UV) run --no-sync

# Files each package's tests read, recorded for `tools/affected.py --verify-reads`.
READS := $(CURDIR)/.test-reads
# What `make pytest` runs: the services, the cross-service smoke tests, the workspace checks.
PYTEST_PATHS ?= services tests

.PHONY: bootstrap sync clients lint typecheck imports releases services-check pytest standalone reads test demo bench

bootstrap:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
		|| { echo "uv not found: installing it with pip"; $(PYTHON) -m pip install --quiet uv; }

# The first sync on a machine downloads every dependency (and the PostgreSQL and Redis
# wheels the tests start where no server answers); it says how long that took.
sync: bootstrap
	@start=$$(date +%s); $(UV) sync --locked --all-packages --all-extras; \
		echo "uv sync took $$(( $$(date +%s) - start )) s (downloads only on a first run)"

lint: sync
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: sync
	$(RUN) mypy libs/*/src
	$(RUN) mypy -p htma -p ingredient

imports: sync
	$(RUN) lint-imports

# Versions, ranges and release points agree (uv ignores ranges between workspace members),
# and no public API broke without the bump that allows it.
releases: sync
	$(RUN) python tools/release.py consistency
	$(RUN) python tools/api_check.py

services-check: sync
	$(RUN) python tools/check_services.py

# Each library's suite runs once, in `standalone`, against its installed wheel; this target
# runs the services, the cross-service smoke tests and the workspace checks.
# PostgreSQL and Redis: the servers on the default ports, the SPAPS_TEST_*_URL given, or
# real servers started from wheels where none answers (tools/test_servers.py; the root
# conftest does it for a plain pytest run). SPAPS_REQUIRE_SERVICES=1 (.ci/run, development
# machines) makes any skip a failure.
# The npm tools and SDK dependencies clients/package-lock.json pins (Node.js 20+): the API
# contract tests need them. Without npm, one loud line, and those tests skip (which
# SPAPS_REQUIRE_SERVICES=1 turns into failures).
clients:
	@if command -v npm >/dev/null 2>&1; then \
		if ! cmp -s clients/package-lock.json clients/node_modules/.spaps-installed-lock; then \
			npm ci --prefix clients --no-audit --no-fund --loglevel=error \
			&& cp clients/package-lock.json clients/node_modules/.spaps-installed-lock; \
		fi; \
	else \
		echo "*** npm not found: the SDK, Postman and OpenAPI lint tests will not run (install Node.js 20+) ***"; \
	fi

pytest: sync services-check clients
	rm -rf $(READS)/workspace
	SPAPS_RECORD_READS=$(READS)/workspace $(RUN) pytest -n auto $(PYTEST_PATHS)

standalone: sync services-check
	rm -rf $(READS)/libs
	SPAPS_RECORD_READS=$(READS)/libs $(RUN) python tools/test_servers.py run -- \
		$(RUN) python tools/standalone_check.py

# Every repository file a suite read selects that suite in tools/affected.py.
reads:
	$(RUN) python tools/affected.py --verify-reads $(READS)/workspace
	$(RUN) python tools/affected.py --verify-reads $(READS)/libs

test: lint typecheck imports releases pytest standalone reads

demo: sync
	$(RUN) python tools/demo.py

bench: sync
	$(RUN) python bench/run_all.py
