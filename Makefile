# lienthong's developer entry points. `make help` lists them.
SHELL := /bin/bash
export GOTOOLCHAIN := local

BIN := $(CURDIR)/bin
# Pinned code generators, built from the Go module proxy into ./bin.
BUF_VERSION                 := v1.75.0
PROTOC_GEN_GO_VERSION       := v1.36.11
PROTOC_GEN_GO_GRPC_VERSION  := v1.6.1
GRPC_GATEWAY_VERSION        := v2.29.0
GOLANGCI_LINT_VERSION       := v2.15.0
WORKFLOWCHECK_VERSION       := v0.6.0
SQLC_VERSION                := v1.31.1

# Where sqlc.yaml writes the Go it generates from the .sql query files.
SQLC_OUT := store/internal/enginedb agency/internal/deskdb agency/internal/agencydb demo/internal/demodb measure/internal/measuredb
# The agencies' shared case-desk migrations with their schema named, as sqlc
# reads them (sqlc.yaml).
SQLC_SCHEMA := $(BIN)/sqlc-schema

GO_TEST_FLAGS ?= -count=1 -timeout 12m

.PHONY: help
help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: run
run: ## start the whole system on one machine (embedded Temporal, PostgreSQL, agencies, worker, API, console)
	go run ./cmd/lienthong dev

.PHONY: build
build: ## build bin/lienthong
	go build -o $(BIN)/lienthong ./cmd/lienthong

.PHONY: test
test: ## run every test: Go (real PostgreSQL, DATABASE_URL or local trust auth), then the console in Chromium
	go test $(GO_TEST_FLAGS) ./...
	$(MAKE) test-browser

.PHONY: test-short
# Much of the fast loop's time is linking test binaries, six of which hold the
# Temporal server (only stack/embedded and the packages that test against a
# running one link it); without DWARF (-ldflags=-w) they link about a fifth faster.
# Debug a test binary with make test's flags.
test-short: ## the fast loop: every Go test but the chaos, cluster and long end-to-end runs; no browser
	go test -short -count=1 -ldflags=-w -timeout 5m ./...

CONSOLE := console/web
CHROMIUM ?= /usr/bin/chromium

$(CONSOLE)/node_modules/.package-lock.json: $(CONSOLE)/package-lock.json
	cd $(CONSOLE) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

.PHONY: console-deps
console-deps: $(CONSOLE)/node_modules/.package-lock.json

.PHONY: console
console: console-deps ## rebuild the console's embedded assets (console/static) from console/web
	cd $(CONSOLE) && npm run gen && npm run build

.PHONY: test-browser
test-browser: console-deps ## drive the console in Chromium against a real dev stack (needs Debian's chromium)
	@test -x $(CHROMIUM) || (echo "browser tests need Chromium at $(CHROMIUM): apt-get install chromium" && exit 1)
	cd $(CONSOLE) && CHROMIUM_PATH=$(CHROMIUM) npx playwright test

.PHONY: tools
tools: ## build the pinned code generators into ./bin
	GOBIN=$(BIN) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	GOBIN=$(BIN) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(BIN) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	GOBIN=$(BIN) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION)
	GOBIN=$(BIN) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)
	GOBIN=$(BIN) go install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION)

.PHONY: generate
generate: generate-sql ## regenerate protobuf, gRPC, gateway and OpenAPI code, and the Go for the SQL queries
	@test -x $(BIN)/buf || $(MAKE) tools
	$(BIN)/buf lint
	$(BIN)/buf generate
	$(BIN)/buf generate --template buf.gen.gateway.yaml --path proto/lienthong/engine
	cp docs/openapi/lienthong.swagger.json api/openapi.json  # go:embed cannot reach docs/

.PHONY: generate-sql
generate-sql: ## regenerate the Go for the SQL queries (sqlc.yaml)
	@test -x $(BIN)/sqlc || GOBIN=$(BIN) go install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION)
	@mkdir -p $(SQLC_SCHEMA)
	@for schema in desk insurance justice police; do \
		sed "s/\$${schema}/$$schema/g" agency/migrations/common/*.sql > $(SQLC_SCHEMA)/$$schema.sql; done
	$(BIN)/sqlc generate

.PHONY: readme
readme: ## rewrite README's table of settings from the settings' tags (config)
	go run ./internal/readme

.PHONY: verify
verify: generate readme console ## fail when generated code or the console's assets are stale, or gofmt or vet complain
	@git diff --exit-code -- proto docs/openapi api/openapi.json README.md || (echo "generated code is stale: run make generate and make readme, and commit" && exit 1)
	@test -z "$$(git status --porcelain -- $(SQLC_OUT))" || (git status --porcelain -- $(SQLC_OUT); echo "the Go generated from the SQL queries is stale: run make generate and commit" && exit 1)
	@git diff --exit-code -- console/static $(CONSOLE)/src/api || (echo "the console's built assets are stale: run make console and commit" && exit 1)
	@test -z "$$(git status --porcelain -- console/static)" || (git status --porcelain -- console/static; echo "the console build made files that are not committed: run make console and commit" && exit 1)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt would change the files above"; exit 1)
	go vet ./...

.PHONY: lint
lint: ## run golangci-lint (with the import rules) and Temporal's workflowcheck, built at pinned versions into ./bin
	@test -x $(BIN)/golangci-lint || GOBIN=$(BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	@test -x $(BIN)/workflowcheck || GOBIN=$(BIN) go install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)
	$(BIN)/golangci-lint run ./...
	$(BIN)/workflowcheck ./workflows/...

.PHONY: bench
bench: ## measure throughput against the bare engine limit; writes docs/BENCHMARKS.md
	go run ./cmd/lienthong bench --out docs/BENCHMARKS.md

.PHONY: bench-backlog
bench-backlog: ## drain a national day's backlog (5,500 dossiers) after a Police outage, against the bare engine; writes its section of docs/BENCHMARKS.md
	go run ./cmd/lienthong bench --backlog 5500 --timeout 90m --out docs/BENCHMARKS.md

.PHONY: bench-scale
bench-scale: ## seed a national year (2 M dossiers) and time the read model's queries; writes its section of docs/BENCHMARKS.md
	go run ./measure/scale/cmd/lienthong-scale --out docs/BENCHMARKS.md $(SCALE_FLAGS)

.PHONY: chaos
chaos: ## multi-process chaos run with invariant checks
	go run ./cmd/lienthong chaos
