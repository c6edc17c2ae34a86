# corso: Microsoft 365 backup on Temporal.
GO        ?= go
BIN       := $(CURDIR)/bin
DEMO_DIR  ?= $(CURDIR)/.data/dev

.PHONY: build test test-unit demo bench clean

build:
	$(GO) build -o $(BIN)/corso ./starter
	$(GO) build -o $(BIN)/corso-worker ./worker
	$(GO) build -o $(BIN)/corso-dev ./devstack

# Every test, the end-to-end ones included: they start corso-dev (Temporal,
# Web UI, S3) and corso-worker processes on free 127.0.0.1 ports.
test: build
	CORSO_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 45m ./...

# Tests that need no servers.
test-unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /e2e)

# Start the dev stack and a worker, initialize and connect a repository in
# the dev bucket, and keep running until Ctrl-C so the Web UI can be used.
demo: build
	DEMO_DIR=$(DEMO_DIR) ./scripts/demo.sh

# Exchange backup against its targets (throughput vs raw kopia ingest,
# incremental cost, memory, history size, kill recovery, scaling), then the
# simulator's own benchmarks.
bench: build
	CORSO_BIN_DIR=$(BIN) $(GO) run ./bench $(BENCH_FLAGS)
	$(GO) test -run '^$$' -bench . -benchmem ./graphsim

clean:
	rm -rf $(BIN) $(CURDIR)/.data
