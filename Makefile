# hubsecrets: the single entry point. `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin
VERSION_PKG := github.com/hubsecrets/packer-plugin-jupyterhub/version

.PHONY: help build demo test lint fmt vet staticcheck bench bench-check bench-scan bench-dhparam fuzz generate clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

build: ## build bin/hubsecrets
	$(GO) build -o $(BIN)/hubsecrets ./cmd/hubsecrets

demo: build ## lay out the tutorial's tree and a correct one, check both
	@scripts/demo.sh $(BIN)/hubsecrets

test: ## run the full test suite (Go and Rego)
	$(GO) test -count=1 ./...

lint: fmt vet staticcheck ## gofmt, go vet and staticcheck must be clean

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

$(BIN)/staticcheck: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../$(BIN)/staticcheck honnef.co/go/tools/cmd/staticcheck

staticcheck: $(BIN)/staticcheck
	$(BIN)/staticcheck ./...

bench: bench-check ## run the Go benchmarks (policy evaluation, collector, DH generation vs openssl)
	$(GO) test -run='^$$' -bench=. -benchtime=3x ./internal/dhparam
	$(GO) test -run='^$$' -bench=. ./checker/...

bench-check: build ## hubsecrets check end to end vs stat(1) of the same files
	@scripts/bench-check.sh $(BIN)/hubsecrets

bench-scan: build ## hubsecrets check --tar vs tar -tvf on a 1 GiB archive
	@scripts/bench-scan.sh $(BIN)/hubsecrets

bench-dhparam: ## hubsecrets dhparam vs openssl dhparam at 2048 bits (N=7 rounds)
	@scripts/bench-dhparam.sh $(N)

fuzz: ## run each fuzz target briefly (FUZZTIME=30s)
	$(GO) test -run='^$$' -fuzz=FuzzParsePEM -fuzztime=$${FUZZTIME:-30s} ./internal/dhparam
	$(GO) test -run='^$$' -fuzz=FuzzOpenTar -fuzztime=$${FUZZTIME:-30s} -fuzzminimizetime=50x ./checker/source

generate: ## regenerate generated code
	$(GO) generate ./...

clean:
	rm -rf $(BIN) dist
