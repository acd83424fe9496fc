# Palisade build, test, demo and benchmarks. See README.md.
GO      ?= go
BIN     := bin
GOFLAGS ?=
export PATH := $(PATH):/usr/local/go/bin

# Names under which the multi-call fence agent is installed (fence-agents'
# IPMI family). cmd/fence-agent dispatches on argv[0].
FENCE_ALIASES := fence_ipmilan fence_ipmilanplus fence_idrac fence_ilo3 fence_ilo4 fence_ilo5 fence_imm

.PHONY: all build deps test test-unit test-hw bench bench-fence bench-scheduler bench-messaging bench-failover bench-arbiter demo lint fmt clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build $(GOFLAGS) -o $(BIN)/ ./cmd/...
	@for a in $(FENCE_ALIASES); do ln -sf fence-agent $(BIN)/$$a; done

# Installs the Debian packages the tests use (only what is missing).
deps:
	bash .ci/install-deps

# Unit tests (race detector on) and the integration tests in hw-tests/.
test: deps build
	$(GO) test -race -count=1 -timeout 45m ./...

test-unit: build
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /hw-tests)

test-hw: deps build
	$(GO) test -count=1 -v -timeout 45m ./hw-tests/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# Side-by-side comparisons against the reference tools, printed as ratios.
bench: bench-fence bench-scheduler bench-messaging

bench-fence: deps build
	$(GO) run ./hw-tests/cmd/bench-fence

bench-scheduler: deps build
	$(GO) run ./hw-tests/cmd/bench-scheduler

bench-messaging: deps build
	$(GO) test -run '^$$' -bench . -benchmem ./cluster/...
	$(GO) run ./hw-tests/cmd/bench-mesh

bench-failover: deps build
	$(GO) run ./hw-tests/cmd/bench-failover

# palisade-arbiter serving 1,000 clusters on one pinned core (report ->
# verdict times), and the arbiter core's and the disk loop's costs.
bench-arbiter: build
	$(GO) test -run '^$$' -bench . -benchmem ./quorum/arbiter/ ./quorum/disk/
	$(GO) run ./hw-tests/cmd/bench-arbiter

# A local three-node cluster in network namespaces that shows a fenced
# failover (needs root).
demo: deps build
	$(GO) run ./hw-tests/cmd/demo

clean:
	rm -rf $(BIN)
