# sipfront: `make demo` runs the main job, `make test` runs every test.
# Both work on a fresh Debian/Ubuntu machine with Go installed; `make test`
# installs sipp (sip-tester) and graphviz first when they are missing.

GO    ?= go
SUDO  ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN   ?= bin/sipfront

.PHONY: demo test build bench deps e2e clean

demo:
	$(GO) run ./cmd/sipfront demo

test: deps
	$(GO) test -timeout 30m ./...

# The end-to-end suite alone (sipp peers, the real binary), verbose.
e2e: deps
	$(GO) test -timeout 15m -v ./test/e2e/

build:
	$(GO) build -o $(BIN) ./cmd/sipfront

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# sipp and dot are the only tools the tests need beyond Go.
deps:
	@if ! command -v sipp >/dev/null 2>&1 || ! command -v dot >/dev/null 2>&1; then \
		echo "installing sip-tester (sipp) and graphviz (dot)"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y sip-tester graphviz; \
	fi

clean:
	rm -rf bin
