# The developer loop. `make` (or `make help`) lists the targets. Nothing here installs
# except `setup`; `scripts/test` is the one command for a fresh machine.

VENV ?= .venv
BIN := $(VENV)/bin
WORKERS ?= auto
LOCK_ARGS ?=
PYTEST := $(BIN)/pytest -p no:cacheprovider -n $(WORKERS)

.DEFAULT_GOAL := help
.PHONY: help setup hooks serve test e2e lint format lock ci migration

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: ## install the studio, test and lint tools, npm packages, Chromium (skips what is done)
	scripts/install --dev

hooks: ## install the git pre-commit hooks (.pre-commit-config.yaml)
	$(BIN)/pre-commit install

serve: ## migrate, seed the demo workspace and serve the studio on 127.0.0.1:5000
	scripts/serve

test: ## unit and database tests (tests/), in parallel; PostgreSQL too if STUDIO_TEST_POSTGRES_URL is set
	$(PYTEST) tests

e2e: ## browser tests (e2e/) in Debian's Chromium
	$(PYTEST) --screenshot only-on-failure --output test-results e2e

lint: ## ruff check, ruff format --check, mypy, import contracts (runs all, fails if any fails)
	@status=0; \
	for step in "ruff check ." "ruff format --check ." "mypy" "lint-imports"; do \
	  echo "== $$step"; $(BIN)/$$step || status=1; \
	done; \
	exit $$status

format: ## apply ruff format and ruff's safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: ## recompile requirements/*.txt (pinned, hashed) from pyproject.toml; LOCK_ARGS=--upgrade for newest
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 \
	  --quiet $(LOCK_ARGS) -o requirements/runtime.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra cluster --generate-hashes --universal \
	  --python-version 3.11 --quiet $(LOCK_ARGS) -o requirements/dev.txt

ci: ## what CI runs: .ci/run (install if needed, ruff, every test, PostgreSQL included)
	bash .ci/run

migration: ## draft a migration from the models: make migration REV=0004 MESSAGE="what changes"
	@test -n "$(REV)" && test -n "$(MESSAGE)" || { echo 'usage: make migration REV=0004 MESSAGE="what changes"'; exit 2; }
	$(BIN)/python -c 'import sys, tempfile; from alembic import command; from studio import migrate; \
	url = f"sqlite:///{tempfile.mkdtemp()}/draft.sqlite3"; migrate.upgrade(url); \
	command.revision(migrate.alembic_config(url), message=sys.argv[1], autogenerate=True, rev_id=sys.argv[2])' \
	  "$(MESSAGE)" "$(REV)"
