# sipfront: `make demo` runs the main job, `make test` runs every test.
# Both work on a fresh Debian/Ubuntu machine with Go installed; `make test`
# installs sipp (sip-tester) and graphviz first when they are missing.

GO    ?= go
SUDO  ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN   ?= bin/sipfront

.PHONY: demo test fuzz build bench deps e2e clean

demo:
	$(GO) run ./cmd/sipfront demo

# Every test, the fuzz seed corpora (testdata/fuzz/) included. Mutation
# is `make fuzz`: it is random by nature, so a gate that must give the same
# answer for the same commit runs the corpora it has found, not new ones.
test: deps
	$(GO) test -timeout 30m ./...

# Every fuzz target mutating for a bounded time (FUZZTIME=10m for a longer
# run); a failing input lands in testdata/fuzz/ and is committed with the fix.
fuzz:
	FUZZTIME=$${FUZZTIME:-10s} GO=$(GO) sh test/fuzz.sh

# The end-to-end suite alone (sipp peers, the real binary), verbose.
e2e: deps
	$(GO) test -timeout 15m -v ./test/e2e/

build:
	$(GO) build -o $(BIN) ./cmd/sipfront

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The tools the tests need beyond Go: sipp (callers and simulated boxes),
# dot (graph rendering), PostgreSQL (credential store tests), baresip (a
# real phone) and sipvicious (a real scanner).
DEB_PKGS = sip-tester graphviz postgresql baresip sipvicious

deps:
	@if ! command -v sipp >/dev/null 2>&1 || ! command -v dot >/dev/null 2>&1 || \
	    ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || \
	    ! command -v baresip >/dev/null 2>&1 || ! command -v svmap >/dev/null 2>&1; then \
		echo "installing $(DEB_PKGS)"; \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $(DEB_PKGS); \
	fi

clean:
	rm -rf bin
