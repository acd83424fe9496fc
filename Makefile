# Palisade build, test, demo and benchmarks. See README.md.
GO      ?= go
BIN     := bin
GOFLAGS ?=
export PATH := $(PATH):/usr/local/go/bin

# Names under which the multi-call fence agent is installed (fence-agents'
# IPMI family). cmd/fence-agent dispatches on argv[0].
FENCE_ALIASES := fence_ipmilan fence_ipmilanplus fence_idrac fence_ilo3 fence_ilo4 fence_ilo5 fence_imm
# The plugin family (plugins/redfish, ...).
FENCE_ALIASES += fence_redfish fence_apc_snmp fence_tripplite_snmp fence_watchdog fence_manual fence_meatware meatclient

.PHONY: all build deps test soak test-unit test-hw bench bench-fence bench-pacemaker bench-scheduler bench-messaging bench-failover bench-arbiter demo lint fmt clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build $(GOFLAGS) -o $(BIN)/ ./cmd/...
	@for a in $(FENCE_ALIASES); do ln -sf fence-agent $(BIN)/$$a; done
	@for n in $$($(BIN)/fence-agent --names); do ln -sf fence-agent $(BIN)/fence_palisade_$${n#fence_}; done

# Installs the Debian packages the tests use (only what is missing).
deps:
	bash .ci/install-deps

# Unit tests (race detector on) and the integration tests in hw-tests/,
# then the cluster simulator on SIM_SEEDS seeds without the race detector
# (each seed runs single-threaded; the race run above includes a few).
SIM_SEEDS  ?= 400
SOAK_SEEDS ?= 4000
test: deps build
	$(GO) test -race -count=1 -timeout 45m ./...
	$(GO) test -count=1 -timeout 30m ./cluster/sim -run 'TestSeeds$$' -seeds $(SIM_SEEDS) -v

# Ten times the simulator's CI share, on other seeds.
soak:
	$(GO) test -count=1 -timeout 120m ./cluster/sim -run 'TestSeeds$$' -seeds $(SOAK_SEEDS) -first 100000 -v

test-unit: build
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /hw-tests)

test-hw: deps build
	$(GO) test -count=1 -v -timeout 45m ./hw-tests/...

# go mod tidy -diff prints what tidy would change and fails if anything:
# go.mod and go.sum must list exactly what the code imports.
lint:
	$(GO) mod tidy -diff
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

# --- install (issue 14) ----------------------------------------------------
# `make install [PREFIX=/usr] [DESTDIR=/tmp/stage]`: the programs into
# $(SBINDIR) (they are administration commands, like Pacemaker's), man pages
# generated from the commands into $(MANDIR)/man8, systemd units into
# $(UNITDIR) with their paths filled in. Fence agent names come from
# `install-fence` when the Makefile has it (issue 17); otherwise only the
# names in FENCE_ALIASES, never over a file that is not ours.
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install
DAEMONS  = palisaded $(notdir $(wildcard $(BIN)/palisade-arbiter))

.PHONY: install install-bin install-man install-units uninstall

install: install-bin install-man install-units
	@echo "installed under $(DESTDIR)$(PREFIX); then: systemctl daemon-reload, palisade config import, systemctl enable --now palisaded"

install-bin: build
	$(INSTALL) -d $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 0755 $(BIN)/palisade $(addprefix $(BIN)/,$(DAEMONS)) $(DESTDIR)$(SBINDIR)/
	@if $(MAKE) -s -n install-fence >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory install-fence; \
	else \
	  $(INSTALL) -m 0755 $(BIN)/fence-agent $(DESTDIR)$(SBINDIR)/fence-agent; \
	  for a in $(FENCE_ALIASES); do f=$(DESTDIR)$(SBINDIR)/$$a; \
	    if { [ -e "$$f" ] || [ -L "$$f" ]; } && [ "$$(readlink "$$f")" != fence-agent ]; then \
	      echo "install: $$f exists and is not ours (fence-agents?); left alone" >&2; continue; fi; \
	    ln -sfn fence-agent "$$f"; done; \
	fi

install-man: build
	rm -rf $(BIN)/man
	$(BIN)/palisade gen-man --dir $(BIN)/man $(addprefix --daemon $(BIN)/,$(DAEMONS))
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0644 $(BIN)/man/*.8 $(DESTDIR)$(MANDIR)/man8/

install-units:
	$(INSTALL) -d $(DESTDIR)$(UNITDIR)
	@for d in $(DAEMONS); do \
	  sed 's|@SBINDIR@|$(SBINDIR)|g' cmd/$$d/$$d.service > $(DESTDIR)$(UNITDIR)/$$d.service && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$d.service && echo "  $(DESTDIR)$(UNITDIR)/$$d.service"; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,palisade palisaded palisade-arbiter) \
	  $(addprefix $(DESTDIR)$(UNITDIR)/,palisaded.service palisade-arbiter.service) \
	  $(DESTDIR)$(MANDIR)/man8/palisade*.8
	@for f in $(DESTDIR)$(SBINDIR)/fence_* ; do [ "$$(readlink "$$f")" = fence-agent ] && rm -f "$$f"; done; \
	  rm -f $(DESTDIR)$(SBINDIR)/fence-agent

# --- fence agents: install (issue 17) -------------------------------------
# `make install-fence` installs bin/fence-agent and one fence_palisade_NAME
# symlink per personality under $(DESTDIR)$(SBINDIR); Pacemaker only looks
# for fence agents in /usr/sbin, so use PREFIX=/usr for it. The names come
# from the binary itself (fence-agent --names), so personalities added later
# are installed too. The fence-agents names (fence_ipmilan, ...) are
# installed only by `make install-fence-agents-names`, which refuses to
# replace a file that is not already ours (FORCE=1 replaces it).
# A general `make install` can depend on install-fence.
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
