# Two commands do everything on a machine with only Python 3.11+: `make dev` and `make test`.
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
# The interpreter the workspace is synced with: the distribution's own Python 3.11 where there is one.
# Debian's is built with PGO and LTO, as the deployment image's (python:3.11-slim) is; pyenv's default
# build is neither, and every Python process spends more CPU on it: the services 6-19 % more per
# checkout (docs/benchmarks.md, session 41). UV_PYTHON set in the environment wins; with neither, uv
# finds an interpreter as usual.
ifeq ($(origin UV_PYTHON),undefined)
ifneq ($(wildcard /usr/bin/python3.11),)
export UV_PYTHON := /usr/bin/python3.11
endif
endif
PYTEST_ARGS ?=
# pytest-xdist workers for `make test`: the end-to-end tests mostly wait on platforms, browsers and
# the network, so three fit two cores (the distributed platforms' tests keep to one of them:
# atelier_testing.plugin's DISTRIBUTED_LANE).
TEST_WORKERS ?= 3

.PHONY: uv sync dev up lint test test-fast frontends bench bench-catalog bench-data migrate clean clients chart-check docs

uv:
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

SOURCES := libs/common/src libs/platform/src libs/testing/src libs/compat/src gateway/src $(wildcard services/*/src)

# Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set (CI images often set it), every
# process would compile every module it imports at each start (a distributed platform's two dozen processes
# took 29 s to become healthy instead of 14). The workspace's own packages are editable installs,
# outside site-packages, so compileall covers them.
sync: uv
	@$(UV) sync --all-packages --locked --quiet --compile-bytecode
	@$(UV) run --no-sync python -m compileall -q $(SOURCES)

dev: sync  ## the embedded platform on http://localhost:8000
	$(UV) run atelier dev

up: sync  ## the distributed topology against PostgreSQL and RabbitMQ, with demo data, dev mailbox and dev checkout (--dev)
	$(UV) run atelier up --dev

migrate: sync
	$(UV) run atelier migrate

# Biome, pinned in tests-e2e/tools beside axe-core: .ci/run installs that directory before `make lint`
# (`make clients` installs its own tools later, in a cache), and the console is what the browser tests drive.
BIOME := tests-e2e/tools/node_modules/.bin/biome

lint: sync  ## ruff (lint + import order), Biome on the staff console's JavaScript (biome.jsonc), then mypy (strict on the libs, the gateway and the profiles, default on services); CI runs it before the tests
	$(UV) run ruff check .
	@[ -x $(BIOME) ] || { echo "Biome is missing ($(BIOME)): npm ci --prefix tests-e2e/tools installs it (needs npm)"; exit 2; }
	$(BIOME) lint --error-on-warnings
	$(UV) run mypy $(SOURCES)

test: sync  ## the whole suite: libs, gateway, services, end-to-end in both modes
	$(UV) run pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

test-fast: sync  ## without the end-to-end tests
	$(UV) run pytest -n $(TEST_WORKERS) libs gateway services $(PYTEST_ARGS)

frontends: sync  ## the products' real frontends, unchanged, against `atelier dev` on :8000 in headless Chromium (needs ATELIER_FRONTENDS_MIRROR=<dir of their git mirrors>, npm, chromium; ports 8000, 3000, 5173 free)
	@[ -n "$(ATELIER_FRONTENDS_MIRROR)" ] || { echo "ATELIER_FRONTENDS_MIRROR is not set: the directory holding <owner>+<name>/repo mirrors of the frontends"; exit 2; }
	$(UV) run pytest tests-e2e/frontends -m frontends $(PYTEST_ARGS)

clients: sync  ## generate the Python and TypeScript clients of the merged OpenAPI into a temporary directory, type-check a program against each, and lint the document (Redocly; needs npm)
	$(UV) run python clients/generate.py

docs: sync  ## write docs/configuration.md from the settings classes (libs/platform/tests/test_config_docs.py fails when it is stale)
	$(UV) run atelier config-docs --output docs/configuration.md

chart-check: sync  ## helm lint --strict the chart (deploy/helm/atelier), render it and validate every manifest with kubernetes-validate (Kubernetes 1.30)
	$(UV) run python deploy/render.py --check

bench: sync  ## every figure of the performance issues with its target and its ratio to the bare ceiling, then the capacity model (~15 min; needs PostgreSQL, RabbitMQ, Redis and wrk)
	$(UV) run python -m bench.all

bench-catalog: sync  ## search, list and detail pages at 10,000 and 1,000,000 products (~6 min)
	$(UV) run python -m bench.catalog_search --sizes 10000 1000000

bench-data: sync  ## issue #57's reads, placements and housekeeping at 0.1 and 1.0 × (1M customers, 5M orders, 10M ledger lines, 1M products), the ratio between them and EXPLAIN of what is flagged (long: the seeding; BENCH_DATA_ARGS="--keep NAME" keeps the databases)
	$(UV) run python -m bench.data_scale --scale 0.1 1.0 --explain $(BENCH_DATA_ARGS)

clean:
	rm -rf .atelier
