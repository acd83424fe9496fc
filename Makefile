# Palisade build, test, demo and benchmarks. See README.md.
GO      ?= go
BIN     := bin
GOFLAGS ?=
export PATH := $(PATH):/usr/local/go/bin

# Names under which the multi-call fence agent is installed (fence-agents'
# IPMI family). cmd/fence-agent dispatches on argv[0].
FENCE_ALIASES := fence_ipmilan fence_ipmilanplus fence_idrac fence_ilo3 fence_ilo4 fence_ilo5 fence_imm

.PHONY: all build deps test test-unit test-hw bench bench-fence bench-pacemaker bench-scheduler bench-messaging bench-failover demo lint fmt clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build $(GOFLAGS) -o $(BIN)/ ./cmd/...
	@for a in $(FENCE_ALIASES); do ln -sf fence-agent $(BIN)/$$a; done
	@for n in $$($(BIN)/fence-agent --names); do ln -sf fence-agent $(BIN)/fence_palisade_$${n#fence_}; done

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
bench: bench-fence bench-scheduler bench-messaging bench-pacemaker

bench-fence: deps build
	$(GO) run ./hw-tests/cmd/bench-fence

# Ours vs the reference fence_ipmilan under the real fencer (Pacemaker in
# namespaces): monitor/reboot/off/on and time to a failed fence.
bench-pacemaker: deps build
	$(GO) run ./hw-tests/cmd/bench-pacemaker

bench-scheduler: deps build
	$(GO) run ./hw-tests/cmd/bench-scheduler

bench-messaging: deps build
	$(GO) test -run '^$$' -bench . -benchmem ./cluster/...
	$(GO) run ./hw-tests/cmd/bench-mesh

bench-failover: deps build
	$(GO) run ./hw-tests/cmd/bench-failover

# A local three-node cluster in network namespaces that shows a fenced
# failover (needs root).
demo: deps build
	$(GO) run ./hw-tests/cmd/demo

clean:
	rm -rf $(BIN)

# --- fence agents: install (issue 17) -------------------------------------
# `make install-fence` installs bin/fence-agent and one fence_palisade_NAME
# symlink per personality under $(DESTDIR)$(SBINDIR); Pacemaker only looks
# for fence agents in /usr/sbin, so use PREFIX=/usr for it. The names come
# from the binary itself (fence-agent --names), so personalities added later
# are installed too. The fence-agents names (fence_ipmilan, ...) are
# installed only by `make install-fence-agents-names`, which refuses to
# replace a file that is not already ours (FORCE=1 replaces it).
# A general `make install` can depend on install-fence.
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
FENCE_PALISADE_NAMES = $$($(BIN)/fence-agent --names | sed 's/^fence_/fence_palisade_/')

.PHONY: install-fence install-fence-agents-names fence-names

fence-names: build
	@$(BIN)/fence-agent --names | sed 's/^fence_/fence_palisade_/'

install-fence: build
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 $(BIN)/fence-agent $(DESTDIR)$(SBINDIR)/fence-agent
	@for n in $(FENCE_PALISADE_NAMES); do ln -sfn fence-agent $(DESTDIR)$(SBINDIR)/$$n && echo "  $(DESTDIR)$(SBINDIR)/$$n"; done

install-fence-agents-names: install-fence
	@for n in $$($(BIN)/fence-agent --names); do \
	  f=$(DESTDIR)$(SBINDIR)/$$n; \
	  if { [ -e "$$f" ] || [ -L "$$f" ]; } && [ "$$(readlink "$$f")" != fence-agent ] && [ "$(FORCE)" != 1 ]; then \
	    echo "install-fence-agents-names: $$f exists and is not ours (the distribution's agent?); nothing replaced (FORCE=1 to replace)" >&2; exit 1; \
	  fi; \
	done
	@for n in $$($(BIN)/fence-agent --names); do ln -sfn fence-agent $(DESTDIR)$(SBINDIR)/$$n && echo "  $(DESTDIR)$(SBINDIR)/$$n"; done
