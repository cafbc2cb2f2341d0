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
# The tools of the other languages, pinned in platform/tools/ (see its README) and installed
# into this git-ignored folder by `make install`.
TOOLS := .tools
NPM_TOOLS := platform/tools/npm
# The virtualenv's tools (buf, protoc plugins, ruff, ...) come first on PATH, then the other
# languages' (protoc-gen-go, protoc-gen-es, protoc, ...), so buf.gen.yaml can name plugins
# without paths.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/$(TOOLS)/bin:$(CURDIR)/$(NPM_TOOLS)/node_modules/.bin:$(PATH)

.PHONY: help up dev install lock thirdparty generate check-generated format lint breaking \
        style sec-scan audit check test test-python bench bench-services bench-rest bench-auth cluster clean

help: ## List every target with one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# `make up` and `make dev` log in structlog's readable console format (honcho pipes the
# services' output, which would otherwise make it JSON); an exported *_LOGGING__FORMAT wins.
# The services, from their manifests (services/<name>/service.yaml): no list is kept here.
SERVICES := $(patsubst services/%/service.yaml,%,$(wildcard services/*/service.yaml))
READABLE_LOGS := $(foreach s,$(shell echo $(SERVICES) | tr a-z A-Z),$(s)_LOGGING__FORMAT=$${$(s)_LOGGING__FORMAT:-console})

# The services that own a database (`database: true` in their manifest), migrated before the
# stack starts.
DATABASES := $(patsubst services/%/service.yaml,%,$(shell grep -l '^database: true' services/*/service.yaml))
MIGRATE := $(foreach s,$(DATABASES),$(PYTHON) -m services.$(s) migrate &&)
# DB=postgres: the same stack on a PostgreSQL of the project's own (servicekit.testing.postgres:
# data kept in $(DB_DIR), a free port), started first and stopped after the stack; each
# service gets its database as <NAME>_DATABASE__URL.
DB ?= sqlite
DB_DIR ?= .run/postgres
ifeq ($(DB),postgres)
WITH_DB := $(PYTHON) -m servicekit.testing.postgres run --data $(DB_DIR) \
  $(addprefix --database ,$(DATABASES)) --
else ifneq ($(DB),sqlite)
$(error DB=$(DB): use DB=sqlite (the default) or DB=postgres)
endif

# A stack already answering here (any of its services, on the ports these settings give) is
# said in one line, and nothing else starts; otherwise the migrations run, then the Procfile
# (stackkit.run: honcho, ending 0 when Ctrl-C stopped a stack whose processes all exited 0).
MODULES := $(addprefix services.,$(SERVICES))
RUNNING := $(PYTHON) -m servicekit.probe --running $(MODULES)
define RUN_STACK
@mkdir -p .run
@if running=$$($(RUNNING)); then \
  echo "$@: the stack already runs here ($$running); Ctrl-C where it runs stops it"; exit 0; fi; \
  $(READABLE_LOGS) exec $(WITH_DB) bash -c '$(MIGRATE) exec $(PYTHON) -m stackkit.run $(1)'
endef

up: stack-generated ## Run the whole stack locally on SQLite (DB=postgres: on a PostgreSQL of its own)
	$(call RUN_STACK,Procfile)

dev: stack-generated ## `make up`, restarting a service when its code changes, regenerating on a .proto change
	$(call RUN_STACK,Procfile.dev)

# The README's first-hour session against the running stack, each command printed before
# its output (platform/tools/demo.sh reads it from README.md; needs curl and jq).
.PHONY: demo reset db-shell
demo: install-python ## Run the README's first-hour session against `make up`, printing each step
	@platform/tools/demo.sh README.md

reset: ## Empty .run/ (local databases, keys, certificates): the next `make up` starts afresh
	@if [ -x $(PYTHON) ] && running=$$($(RUNNING)); then \
	  echo "reset: the stack runs here ($$running): stop it first (Ctrl-C where it runs)" >&2; exit 1; fi
	@rm -rf .run && mkdir .run && echo "reset: .run/ is empty; the next make up starts afresh"

# DB=postgres: the database of the PostgreSQL server that `make up DB=postgres` runs.
ifeq ($(DB),postgres)
DB_SHELL_URL = url=$$($(PYTHON) -m servicekit.testing.postgres url --data $(DB_DIR) --database $(SERVICE)) \
  && $(shell echo $(SERVICE) | tr a-z A-Z)_DATABASE__URL="$$url"
endif
db-shell: install-python ## A SQL shell on a service's database: make db-shell SERVICE=user (sqlite3 or psql)
	@test -n "$(SERVICE)" || { \
	  echo "usage: make db-shell SERVICE=<name> [DB=postgres] (those with a database: $(DATABASES))" >&2; exit 2; }
	@case " $(DATABASES) " in *" $(SERVICE) "*) ;; *) \
	  echo "db-shell: $(SERVICE) has no database (those with one: $(DATABASES))" >&2; exit 2;; esac
	@$(DB_SHELL_URL) exec $(PYTHON) -m services.$(SERVICE) db-shell

# --- Traces without a cluster: make up TRACES=1, then make traces [REQUEST=<id>] -----------
# With TRACES=1 (yes, true, on), `make up` and `make dev` have every service also write its
# spans as JSON lines to $(TRACES_DIR) (<NAME>_TRACING__LOCAL_DIR; servicekit.traces): no
# server, no collector. `make traces` lists the latest traces there, each with its request
# id; `make traces REQUEST=<request id or trace id>` prints one request's span tree across
# the services (gateway -> auth -> user). Both ids are on every log line, and the gateway
# answers the request id as x-request-id. A <NAME>_TRACING__LOCAL_DIR already set wins.
.PHONY: traces traces-on
TRACES_DIR ?= .run/traces
ifneq ($(filter 1 yes true on,$(TRACES)),)
up dev: traces-on
$(foreach v,$(shell echo $(SERVICES) | tr a-z A-Z),$(eval up dev: export $(v)_TRACING__LOCAL_DIR ?= $(abspath $(TRACES_DIR))))
endif

traces-on:
	@echo "traces: every service writes its spans to $(TRACES_DIR); make traces REQUEST=<request id> prints a request's tree"

traces: install-python ## Local traces (make up TRACES=1): the latest, or REQUEST=<request or trace id>'s span tree
	@$(PYTHON) -m servicekit.traces --dir "$(TRACES_DIR)" $(if $(REQUEST),show "$(REQUEST)",list)
# --- end of traces -------------------------------------------------------------------------

install: ## Install every pinned tool: Python (.venv, uv), Go, npm and Maven ones (.tools), at once
	@$(MAKE) --no-print-directory $(if $(findstring jobserver,$(MAKEFLAGS)),,-j4) --output-sync=target installed

.PHONY: installed
installed: $(STAMP) $(TOOLS)/go.installed $(TOOLS)/npm.installed $(TOOLS)/maven.installed
	@:

# Python alone (.venv): what the stack, the Python checks and the contract lint need.
.PHONY: install-python
install-python: $(STAMP)

$(STAMP): requirements.lock pyproject.toml platform/tools/python/venv.sh
	@platform/tools/python/venv.sh $(VENV) $(PYTHON3)
	@touch $@

# Go tools: the `tool` lines of platform/tools/go/go.mod (versions in go.mod and go.sum).
$(TOOLS)/go.installed: platform/tools/go/go.mod platform/tools/go/go.sum
	@mkdir -p $(TOOLS)/bin
	cd platform/tools/go && GOBIN=$(CURDIR)/$(TOOLS)/bin go install tool
	@touch $@

# npm tools: platform/tools/npm/package.json, exactly as its committed lockfile says.
$(TOOLS)/npm.installed: $(NPM_TOOLS)/package.json $(NPM_TOOLS)/package-lock.json
	@mkdir -p $(TOOLS)
	npm ci --prefix $(NPM_TOOLS) --no-audit --no-fund --loglevel=error
	@touch $@

# Maven Central tools (protoc, protoc-gen-grpc-java into .tools/bin; openapi-generator-cli and
# the jars of the Java client it writes into .tools/lib): platform/tools/maven/pom.xml, for
# this machine's OS and CPU.
MAVEN_OS := $(subst Darwin,osx,$(subst Linux,linux,$(shell uname -s)))
MAVEN_ARCH := $(subst arm64,aarch_64,$(subst aarch64,aarch_64,$(shell uname -m)))
$(TOOLS)/maven.installed: platform/tools/maven/pom.xml
	@mkdir -p $(TOOLS)/bin
	mvn -q -B -f platform/tools/maven/pom.xml -Dtools.classifier=$(MAVEN_OS)-$(MAVEN_ARCH) \
	  dependency:copy@tools
	chmod +x $(TOOLS)/bin/protoc $(TOOLS)/bin/protoc-gen-grpc-java
	@touch $@

# --- Generated clients: the dependencies of gen/go, gen/ts and gen/java -------------------
# `make generate` writes their generated code; these steps fetch, once, what that code needs
# (each re-run only when its pin files change), so that `make test` compiles every tree offline:
# `go build` + `go vet`, tsc (gen/ts's dist/, then `--noEmit`), `mvn -o compile` and
# `mvn -o install` (tests/contracts/test_generated_clients.py).
GEN_CLIENT_DEPS := $(TOOLS)/gen-go.installed $(TOOLS)/gen-ts.installed $(TOOLS)/gen-ts.built \
  $(TOOLS)/gen-java.installed
installed: $(GEN_CLIENT_DEPS)

# Go: the modules of gen/go/go.mod and go.sum, into Go's module cache.
$(TOOLS)/gen-go.installed: gen/go/go.mod gen/go/go.sum
	@mkdir -p $(TOOLS)
	cd gen/go && go mod download
	@touch $@

# npm: gen/ts/node_modules, exactly as gen/ts/package-lock.json says.
$(TOOLS)/gen-ts.installed: gen/ts/package.json gen/ts/package-lock.json
	@mkdir -p $(TOOLS)
	npm ci --prefix gen/ts --no-audit --no-fund --loglevel=error
	@touch $@

# tsc: gen/ts/dist/ (git-ignored), the JavaScript and declarations its package.json exports,
# rebuilt whenever a generated source changed (the compile check rebuilds it too).
$(TOOLS)/gen-ts.built: $(TOOLS)/gen-ts.installed $(TOOLS)/npm.installed gen/ts/tsconfig.json \
  gen/ts/tsconfig.build.json $(shell find gen/ts/src -name '*.ts' 2>/dev/null)
	rm -rf gen/ts/dist
	$(NPM_TOOLS)/node_modules/.bin/tsc -p gen/ts/tsconfig.build.json
	@touch $@

# Maven: gen/java/pom.xml's dependencies and build plugins (with the plexus-utils its pom
# names for them, which Maven would add at run time), into the local repository: enough for
# `mvn -o compile` and for the README's `mvn -o install`.
$(TOOLS)/gen-java.installed: gen/java/pom.xml
	@mkdir -p $(TOOLS)
	mvn -q -B -f gen/java/pom.xml dependency:go-offline
	@touch $@
# --- end of generated clients ---------------------------------------------------------------

# --- Conformance runners: tests/conformance/{go,ts,java} ----------------------------------
# The runners that play the shared client session and wire vectors of tests/conformance/data
# in each language through its generated client (tests/conformance/README.md). These steps
# fetch, once, what they build with (each re-run only when its pin files change), so that
# `make test` builds and runs them offline; each waits for its generated tree's step. The
# TypeScript runner is type-checked by the pinned tsc and run by the pinned tsx
# (platform/tools/npm); the Python runner needs nothing beyond the virtualenv.
CONFORMANCE_DEPS := $(TOOLS)/conformance-go.installed $(TOOLS)/conformance-ts.installed \
  $(TOOLS)/conformance-java.installed
installed: $(CONFORMANCE_DEPS)

# Go: the modules of tests/conformance/go (gen/go's through its replace) into Go's module cache.
$(TOOLS)/conformance-go.installed: tests/conformance/go/go.mod tests/conformance/go/go.sum \
  $(TOOLS)/gen-go.installed
	@mkdir -p $(TOOLS)
	cd tests/conformance/go && go mod download
	@touch $@

# npm: tests/conformance/ts/node_modules exactly as its lockfile says; @acme/api in it is a
# link to gen/ts, whose own dependencies its step installs.
$(TOOLS)/conformance-ts.installed: tests/conformance/ts/package.json \
  tests/conformance/ts/package-lock.json $(TOOLS)/gen-ts.installed
	@mkdir -p $(TOOLS)
	npm ci --prefix tests/conformance/ts --no-audit --no-fund --loglevel=error
	@touch $@

# Maven: the runner's dependencies and build plugins (build-helper adds gen/java's sources)
# into the local repository.
$(TOOLS)/conformance-java.installed: tests/conformance/java/pom.xml $(TOOLS)/gen-java.installed
	@mkdir -p $(TOOLS)
	mvn -q -B -f tests/conformance/java/pom.xml dependency:go-offline
	@touch $@
# --- end of conformance runners -------------------------------------------------------------

# uv keeps the versions already in the lock unless pyproject.toml asks for others.
UV_COMPILE := $(VENV)/bin/uv pip compile --quiet --python-version 3.11 --custom-compile-command "make lock"

lock: install-python ## Re-resolve requirements.lock (dev tools too) and requirements-runtime.lock (image)
	$(UV_COMPILE) --extra dev -o requirements.lock pyproject.toml
	$(UV_COMPILE) -c requirements.lock -o requirements-runtime.lock pyproject.toml

thirdparty: install-python ## Materialise third-party protos (google/api, buf/validate) into .thirdparty/
	@$(PYTHON) -m contractkit.cli thirdparty

generate: thirdparty install ## Regenerate gen/ (Python, Go, TypeScript, Java) and api/openapi (writes only what changed)
	@$(PYTHON) -m contractkit.cli generate
	@$(PYTHON) -m stackkit derive

# What the running stack needs of the contracts: the Python stubs and the OpenAPI document,
# regenerated if a contract changed (no other language's tools needed), and the files the
# service manifests derive.
.PHONY: stack-generated
stack-generated: thirdparty
	@$(PYTHON) -m contractkit.cli generate --only gen/python,api/openapi
	@$(PYTHON) -m stackkit derive

check-generated: thirdparty install ## Fail naming each generated file that is stale
	@$(PYTHON) -m contractkit.cli check-generated
	@$(PYTHON) -m stackkit check

format: thirdparty ## Format the contracts and the Python code in place
	buf format -w api/proto
	$(VENV)/bin/ruff format platform services tests bench
	$(VENV)/bin/ruff check --fix-only --quiet platform services tests bench

# The next migration of a service from what its models add (alembic autogenerate, compared
# with a throw-away SQLite database migrated to head: no server), numbered in order and
# formatted: services/<name>/migrations/0002_add_locale.py.
.PHONY: migration
migration: install-python ## New migration from the models: make migration SERVICE=user MSG="add locale"
	@test -n "$(SERVICE)" && test -n "$${MSG:-}" || { \
	  echo 'usage: make migration SERVICE=<name> MSG="what it changes"' >&2; exit 2; }
	$(PYTHON) -m services.$(SERVICE) revision --autogenerate -m "$$MSG"
	$(VENV)/bin/ruff check --fix-only --quiet services/$(SERVICE)/migrations
	$(VENV)/bin/ruff format --quiet services/$(SERVICE)/migrations

# --- A new service: make new-service NAME=orders [RESOURCE=Order] -------------------------
# Renders platform/templates/service (copier) into the repository: the contract of one
# resource (api/proto/acme/<name>/v1: Create, Get, List, Update, Delete over REST and gRPC),
# the service with its first migration and manifest (services/<name>), its unit, integration
# and e2e tests; ports are the next free ones after the manifests'. Then `make generate`
# (stubs, OpenAPI and everything the manifests derive) and `make up` serve it. Copier's
# answers stay in services/<name>/.copier-answers.yml: `make update-service NAME=<name>`
# merges the template's later (committed) changes into the service (copier update; a clean
# working tree first, a diff to review after). See platform/stackkit/scaffold.py.
.PHONY: new-service update-service
new-service: install-python ## A working service from the template: make new-service NAME=orders [RESOURCE=Order]
	@test -n "$(NAME)" || { echo 'usage: make new-service NAME=<name> [RESOURCE=<Resource>]' >&2; exit 2; }
	@$(PYTHON) -m stackkit new-service "$(NAME)" $(if $(RESOURCE),--resource "$(RESOURCE)")

update-service: install-python ## Merge the template's later changes into a service: make update-service NAME=orders
	@test -n "$(NAME)" || { echo 'usage: make update-service NAME=<name>' >&2; exit 2; }
	@$(PYTHON) -m stackkit update-service "$(NAME)"
# --- end of new services ------------------------------------------------------------------

lint: thirdparty ## Contract lint: buf format, buf lint, access policies, OpenAPI lint
	buf format -d --exit-code api/proto
	buf lint
	@$(PYTHON) -m contractkit.cli lint

breaking: thirdparty ## Breaking changes of the contracts and the REST face against $(BASE)
	@$(PYTHON) -m contractkit.cli breaking --against $(BASE)

# --- Optional AIP profile: Google's api-linter over the contracts -------------------------
# api-linter is a Go tool of platform/tools/go (installed into .tools/bin with the others by
# `make install`); api/api-linter.yaml lists the repo's deliberate deviations from the AIPs,
# each with its reason. Advice, not a gate: not part of `make lint` nor `make test`.
.PHONY: lint-aip
lint-aip: thirdparty ## Optional: Google's AIP lint (api-linter) of the contracts, deviations in api/api-linter.yaml
	@$(PYTHON) -m contractkit.cli lint-aip
# --- end of the AIP profile ---------------------------------------------------------------

style: install-python ## Python lint and types: ruff, mypy (strict), import contracts
	$(VENV)/bin/ruff check platform services tests bench
	$(VENV)/bin/ruff format --check --quiet platform services tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Tests run on pytest-xdist workers, each test file on one worker, so that the e2e stacks a
# module shares are started once. One worker more than the cores: many tests wait on servers
# and subprocesses (on 2 cores, 3 workers take about 45 s off the full suite).
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile

test-python: thirdparty install ## Run the test suite with coverage of platform/ and services/
	$(VENV)/bin/pytest $(PYTEST_PARALLEL) --cov --cov-report=term

check: ## The fast tier (under a minute): formats, lints, types, unit and contract tests
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint style
	$(VENV)/bin/pytest $(PYTEST_PARALLEL) -q -m "not slow" tests/unit tests/contracts

sec-scan: install-python ## Security lint of the code: bandit over platform/ and services/
	$(VENV)/bin/bandit -q -r platform services

audit: install-python ## Known vulnerabilities of the locked dependencies (pip-audit; needs the network)
	@$(VENV)/bin/pip-audit --strict --progress-spinner off -r requirements.lock || { \
	  echo "audit: a vulnerable dependency, or the vulnerability service (pypi.org's JSON API) could not be reached: this target needs the network"; exit 1; }

# The checks before the tests run at once (mypy alone takes ten seconds cold), each one's
# output printed whole when it ends; the tests run once every check has passed.
CHECKS := lint breaking check-generated style sec-scan

test: ## Every check and every test (what CI runs)
	@$(MAKE) --no-print-directory -j$(words $(CHECKS)) --output-sync=target $(CHECKS)
	@$(MAKE) --no-print-directory test-python

# --- The fault suite: make test-faults ----------------------------------------------------
# The real services under load against a real PostgreSQL behind a fault proxy
# (servicekit.testing.proxy): the database cut, frozen and slowed; SIGTERM and kill -9 under
# load; an anonymous hashing flood; more calls than the user service admits and more requests
# than the gateway admits. Each scenario prints sent / ok / failed by code / committed but
# reported failed / lost and its recovery time, then a PASS or MISS line per promise, the
# timed ones too (liveness within 1 s during a freeze, excess refused within 100 ms, other
# users' reads p99 under 1 s during the flood, recovery under 3 s); exit 1 on any MISS. A few
# minutes. `make test` runs the same scenarios shorter, through pytest (tests/faults), and
# asserts their behaviour only. FAULTS=database-freeze,overload runs some of them;
# FAULTS_ARGS=--short runs them at the scale of the pytest suite. Figures: RELIABILITY.md.
.PHONY: test-faults
test-faults: thirdparty install-python ## Fault scenarios against the real services: figures, PASS/MISS per promise (minutes)
	@$(PYTHON) -m tests.faults.run $(if $(FAULTS),--only $(FAULTS)) $(FAULTS_ARGS)
# --- end of the fault suite ---------------------------------------------------------------

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

clean: ## Remove caches and materialised third-party protos (keeps .venv and .tools)
	rm -rf .thirdparty .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
