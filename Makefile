# bascule — see README.md. Every target works on a fresh Debian machine with Go.
GO        ?= go
BIN       := bin/bascule
PKGS      := ./...

.PHONY: build test test-short lint bench demo clean

# The first build compiles PostgreSQL's parser (libpg_query, through cgo)
# and prints nothing for a couple of minutes: say so before it starts.
FIRST_BUILD_NOTE = @if [ "$$($(GO) list -f '{{.Stale}}' github.com/pganalyze/pg_query_go/v6 2>/dev/null)" != false ]; then \
	echo "note: this first build compiles PostgreSQL's parser (libpg_query, cgo) and takes a couple of minutes, silently"; fi

build:
	$(FIRST_BUILD_NOTE)
	$(GO) build -o $(BIN) ./cmd/bascule

# The whole suite, race detector on, real processes, SQLite, PostgreSQL and
# Chromium where the machine has them (mandatory when CI=true). go test
# shows a passing package's output only with -v, so the suites skipped for
# want of PostgreSQL or Chromium append a line to BASCULE_SKIP_REPORT
# (internal/testreport), printed here at the end.
test:
	$(FIRST_BUILD_NOTE)
	@skips=$$(mktemp); \
	BASCULE_SKIP_REPORT=$$skips $(GO) test -race -count=1 -timeout 15m $(PKGS); rc=$$?; \
	if [ -s $$skips ]; then \
		echo; echo "!!! Some suites were SKIPPED, not run (with CI=true they fail instead):"; \
		sed 's/^/  /' $$skips; \
	fi; \
	rm -f $$skips; exit $$rc

test-short:
	$(GO) test -short -count=1 $(PKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	$(GO) mod tidy -diff

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./internal/router/ ./internal/flag/ ./internal/store/postgres/ ./feature/ ./internal/migrate/ ./internal/server/ ./flagclient/ ./cmd/bascule/ | tee bench.txt

demo: build
	./$(BIN) demo

clean:
	rm -rf bin bench.txt
