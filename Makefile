# Vitalgraph — see README.md. Every target works on a fresh clone.
SHELL := /bin/bash
GO ?= go
GOLANGCI_VERSION := v2.15.0
GOBIN := $(shell $(GO) env GOPATH)/bin
GOLANGCI := $(GOBIN)/golangci-lint
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(GOBIN)/actionlint
GOVULNCHECK_VERSION := v1.9.0
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
SERVICES := deploy/scripts/test-services.sh
NAME ?= changes

.PHONY: web check-web run build test test-short bench bench-go calibrate fuzz generate check-generate migrations check-migrations lint tools clean tidy-check schema check-schema actionlint hadolint vulncheck deploy-check alerts-test

## run: serve the API on the embedded SQLite database in ./data (dev mode)
run:
	$(GO) run . serve --migrate

## build: build ./bin/vitalgraph
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/vitalgraph .

## test: find/start/install PostgreSQL and Redis, then run every test with -race
test:
	@eval "$$(bash $(SERVICES))" && $(GO) test -race -count=1 -timeout 20m ./...

## test-short: the same with -short (skips the slowest simulations)
test-short:
	@eval "$$(bash $(SERVICES))" && $(GO) test -short -count=1 ./...

## bench: the issue-19 table (cmd/vgbench): Vitalgraph against bare baselines,
## interleaved rounds, medians and ratios (docs/benchmarks.md); BENCHFLAGS=-smoke for seconds
BENCHFLAGS ?=
bench:
	@eval "$$(bash $(SERVICES))" && $(GO) run ./cmd/vgbench $(BENCHFLAGS)

## bench-go: the package benchmarks (go test -bench)
bench-go:
	@eval "$$(bash $(SERVICES))" && $(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./...

## calibrate: the full statistical calibration (20,000 series per cell for experiments,
## the full null-user simulation for insights); prints the tables of docs/calibration.md
calibrate:
	@eval "$$(bash $(SERVICES))" && CALIBRATE=full $(GO) test -count=1 -timeout 120m -run 'Calibration' -v ./engine/... ./app/... | grep -v '^=== RUN'

## fuzz: run each fuzz target briefly (FUZZTIME, default 10s): the engine's
## and the HTTP edge's (server: FuzzHTTPHandler, on PostgreSQL in production mode)
FUZZTIME ?= 10s
fuzz:
	@eval "$$(bash $(SERVICES))" && for pkg in $$($(GO) list ./engine/... ./server/); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; bash deploy/scripts/fuzz.sh $$pkg $$f $(FUZZTIME) || exit 1; \
	  done; \
	done

## web: rebuild the embedded front-end (web/dist: playground and dashboard)
## from web/package-lock.json with the pinned Vite; commit the result
web:
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

## check-web: rebuild the front-end; fail if web/dist differs from the commit
check-web: web
	@if [ -n "$$(git status --porcelain --untracked-files=all -- web/dist web/operations)" ]; then \
	  git status --porcelain --untracked-files=all -- web/dist web/operations; \
	  echo "web/dist or web/operations is stale: run 'make web' and commit"; exit 1; \
	fi
	@echo "web/dist and web/operations are current"

## generate: ent (+entgql) then gqlgen
generate:
	@if command -v flock >/dev/null; then flock -w 900 /tmp/vitalgraph-generate.lock $(GO) generate ./generate.go; else $(GO) generate ./generate.go; fi

## migrations: write a new versioned migration (NAME=…) for both dialects if the ent schema changed
migrations:
	@eval "$$(bash $(SERVICES))" && bash deploy/scripts/migrations.sh "$(NAME)"

## check-generate: regenerate code and migrations; fail if anything differs from the commit
check-generate: generate migrations
	@if [ -n "$$(git status --porcelain --untracked-files=all -- ent graph resolvers server/migrations gqlgen.yml)" ]; then \
	  git status --porcelain --untracked-files=all -- ent graph resolvers server/migrations gqlgen.yml; \
	  git --no-pager diff --stat; \
	  echo "generated code or migrations are stale: run 'make generate' / 'make migrations NAME=…' and commit"; exit 1; \
	fi
	@echo "generated code and migrations are current"

## schema: write schema.graphql, the executable GraphQL schema as SDL with descriptions (for client code generators)
schema:
	$(GO) run . schema > schema.graphql.tmp && mv schema.graphql.tmp schema.graphql

## check-schema: fail if the committed schema.graphql differs from the executable schema
check-schema:
	@$(GO) run . schema | diff -u schema.graphql - || { echo "schema.graphql is stale: run 'make schema' and commit"; exit 1; }
	@echo "schema.graphql is current"

## lint: golangci-lint v2 (installed at a pinned version if missing)
lint: $(GOLANGCI)
	$(GOLANGCI) run ./...

$(GOLANGCI):
	@if ! $(GOLANGCI) version 2>/dev/null | grep -q "$(GOLANGCI_VERSION:v%=%)"; then \
	  echo "installing golangci-lint $(GOLANGCI_VERSION)"; \
	  GOBIN=$(GOBIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION); \
	fi

## tidy-check: fail when `go mod tidy` would change go.mod or go.sum
tidy-check:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit"; exit 1; }
	@echo "go.mod and go.sum are tidy"

## actionlint: check .github/workflows (actionlint pinned; shellcheck checks the run: scripts)
actionlint: $(ACTIONLINT)
	@if ! command -v shellcheck >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing shellcheck with apt-get"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null 2>&1 || \
	  { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null 2>&1; } || \
	  echo "shellcheck unavailable: actionlint skips the run: scripts"; \
	fi
	$(ACTIONLINT)

$(ACTIONLINT):
	@if ! $(ACTIONLINT) -version 2>/dev/null | grep -q "$(ACTIONLINT_VERSION:v%=%)"; then \
	  echo "installing actionlint $(ACTIONLINT_VERSION)"; \
	  GOBIN=$(GOBIN) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION); \
	fi

## hadolint: lint the Dockerfile when hadolint is installed (CI's workflow always runs it)
hadolint:
	@if command -v hadolint >/dev/null 2>&1; then hadolint Dockerfile; \
	else echo "hadolint: not installed (not packaged for Debian bookworm, npm or the Go proxy); .github/workflows/ci.yml runs it"; fi

## vulncheck: govulncheck (pinned) against the Go vulnerability database (needs its network)
vulncheck:
	$(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) ./...

## alerts-test: promtool checks deploy/observability/rules.yml and makes every alert fire and resolve
## (promtool from Debian's prometheus package, installed when missing)
alerts-test:
	bash deploy/scripts/alerts-test.sh

## deploy-check: the compose, Dockerfile, env-template and Kubernetes manifest tests
deploy-check:
	$(GO) test -count=1 ./deploy/
	$(GO) test -count=1 -run 'TestComposeFile|TestEnvTemplates|TestDockerfile|TestKeysGenerate|TestHealthcheck' .

tools: $(GOLANGCI) $(ACTIONLINT)

clean:
	rm -rf bin .tmp
