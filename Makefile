# Tiến Độ — see README.md. Every target installs what it needs first.
SHELL := /bin/bash
export CHDB_LIB_PATH := $(CURDIR)/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so
GO ?= go
DATA ?= $(CURDIR)/.cache/demo
ADDR ?= 127.0.0.1:8080

.PHONY: deps build test fuzz demo bench-ingest clean

deps:
	@scripts/install-deps.sh

build: deps
	CGO_ENABLED=0 $(GO) build -o bin/tiendo ./cmd/tiendo

# Every test, against both ClickHouse engines (the ClickHouse server tests
# start their own clickhouse-server on a free loopback port).
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=10s

# Fuzz the decoders of untrusted input: event batches and WebSocket frames.
# make test runs each briefly; run longer with e.g. make fuzz FUZZTIME=10m.
FUZZTIME ?= 2m
fuzz: deps
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./ingest/
	$(GO) test -run '^$$' -fuzz '^FuzzParseClientMessage$$' -fuzztime $(FUZZTIME) ./server/

demo: build
	@scripts/demo.sh "$(DATA)" "$(ADDR)"

# Events/s for 200 concurrent stations posting small batches, on both engines.
bench-ingest: deps
	$(GO) test -run '^$$' -bench BenchmarkIngest -benchtime 1x -timeout 20m ./cmd/tiendo/

clean:
	rm -rf bin .cache

# Faults end to end against a ClickHouse server (issue 5): 200 stations with
# retries while the server is SIGKILLed 20 times, ClickHouse is stopped for
# two minutes, and SIGTERM arrives under load; prints acknowledged vs stored
# events, lost, double-counted and rollup vs raw totals. About 6 minutes.
CHAOSFLAGS ?=
.PHONY: chaos
chaos: deps build
	CGO_ENABLED=0 $(GO) build -o bin/tiendo-chaos ./cmd/tiendo-chaos
	bin/tiendo-chaos --tiendo bin/tiendo $(CHAOSFLAGS)
