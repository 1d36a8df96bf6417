# bascule — see README.md. Every target works on a fresh Debian machine with Go.
GO        ?= go
BIN       := bin/bascule
PKGS      := ./...

.PHONY: build test test-short lint bench demo clean

build:
	$(GO) build -o $(BIN) ./cmd/bascule

# The whole suite, race detector on, real processes, SQLite, PostgreSQL and
# Chromium where the machine has them (mandatory when CI=true).
test:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	$(GO) mod tidy -diff

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./internal/router/ ./internal/flag/ ./feature/ ./internal/migrate/ ./internal/server/ ./flagclient/ ./cmd/bascule/ | tee bench.txt

demo: build
	./$(BIN) demo

clean:
	rm -rf bin bench.txt
