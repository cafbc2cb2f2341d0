# Every developer command of the platform. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON := $(VENV)/bin/python
# The interpreter the virtualenv is made from: Python 3.11 (another is refused, naming it).
PYTHON3 ?= python3
STAMP := $(VENV)/.installed
BASE ?= main
# The virtualenv's tools (buf, protoc plugins, ruff, ...) come first on PATH, so buf.gen.yaml
# can name plugins and protoc without paths.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help up dev install lock thirdparty generate check-generated format lint breaking \
        style sec-scan audit test test-python bench bench-services bench-rest bench-auth cluster clean

help: ## List every target with one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# `make up` and `make dev` log in structlog's readable console format (honcho pipes the
# services' output, which would otherwise make it JSON); an exported *_LOGGING__FORMAT wins.
READABLE_LOGS := $(foreach s,USER AUTH GATEWAY,$(s)_LOGGING__FORMAT=$${$(s)_LOGGING__FORMAT:-console})

up: generate ## Run the whole stack locally on SQLite (no cluster, no database server)
	@mkdir -p .run
	$(PYTHON) -m services.user migrate
	$(PYTHON) -m services.auth migrate
	@$(READABLE_LOGS) exec $(VENV)/bin/honcho start -f Procfile

dev: generate ## `make up`, with each service restarted when its code changes
	@mkdir -p .run
	$(PYTHON) -m services.user migrate
	$(PYTHON) -m services.auth migrate
	@$(READABLE_LOGS) exec $(VENV)/bin/honcho start -f Procfile.dev

install: $(STAMP) ## Create .venv and install the locked dependencies (uv)
$(STAMP): requirements.lock pyproject.toml platform/tools/python/venv.sh
	@platform/tools/python/venv.sh $(VENV) $(PYTHON3)
	@touch $@

# uv keeps the versions already in the lock unless pyproject.toml asks for others.
UV_COMPILE := $(VENV)/bin/uv pip compile --quiet --python-version 3.11 --custom-compile-command "make lock"

lock: install ## Re-resolve requirements.lock (dev tools too) and requirements-runtime.lock (image)
	$(UV_COMPILE) --extra dev -o requirements.lock pyproject.toml
	$(UV_COMPILE) -c requirements.lock -o requirements-runtime.lock pyproject.toml

thirdparty: install ## Materialise third-party protos (google/api, buf/validate) into .thirdparty/
	@$(PYTHON) -m contractkit.cli thirdparty

generate: thirdparty ## Regenerate gen/python and api/openapi from the contracts
	buf generate

check-generated: thirdparty ## Fail naming each generated file that is stale
	@$(PYTHON) -m contractkit.cli check-generated

format: thirdparty ## Format the contracts and the Python code in place
	buf format -w api/proto
	$(VENV)/bin/ruff format platform services tests bench
	$(VENV)/bin/ruff check --fix-only --quiet platform services tests bench

lint: thirdparty ## Contract lint: buf format, buf lint, access policies, OpenAPI lint
	buf format -d --exit-code api/proto
	buf lint
	@$(PYTHON) -m contractkit.cli lint

breaking: thirdparty ## Breaking changes of the contracts and the REST face against $(BASE)
	@$(PYTHON) -m contractkit.cli breaking --against $(BASE)

style: install ## Python lint and types: ruff, mypy (strict), import contracts
	$(VENV)/bin/ruff check platform services tests bench
	$(VENV)/bin/ruff format --check --quiet platform services tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test-python: thirdparty ## Run the test suite with coverage of platform/ and services/
	$(VENV)/bin/pytest --cov --cov-report=term

sec-scan: install ## Security lint of the code: bandit over platform/ and services/
	$(VENV)/bin/bandit -q -r platform services

audit: install ## Known vulnerabilities of the locked dependencies (pip-audit; needs the network)
	@$(VENV)/bin/pip-audit --strict --progress-spinner off -r requirements.lock || { \
	  echo "audit: a vulnerable dependency, or the vulnerability service (pypi.org's JSON API) could not be reached: this target needs the network"; exit 1; }

test: lint breaking check-generated style sec-scan test-python ## Every check and every test (what CI runs)

bench: thirdparty ## Time `make generate` and `make lint breaking`
	@$(PYTHON) bench/contracts.py

bench-services: thirdparty ## Load the gRPC services: req/s, latency, CPU per call, ratios R1 R3 R6
	@$(PYTHON) bench/services.py $(BENCH_ARGS)

bench-rest: thirdparty ## The REST face: gateway vs bare connexion (R2), REST vs gRPC (needs wrk)
	@$(PYTHON) bench/rest.py $(BENCH_ARGS)

bench-auth: thirdparty ## Login throughput (argon2-bound) and the cost of verifying a token per call
	@$(PYTHON) bench/auth.py $(BENCH_ARGS)

cluster: ## Create the kind cluster `acme` with a local registry at localhost:5001 (needs docker, kind)
	platform/deploy/kind/create-cluster.sh

clean: ## Remove caches and materialised third-party protos (keeps .venv)
	rm -rf .thirdparty .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
