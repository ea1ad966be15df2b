# hubsecrets: the single entry point. `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin
VERSION_PKG := github.com/hubsecrets/packer-plugin-jupyterhub/version
CACHE      := $(or $(HUBSECRETS_CACHE),.cache)
PACKER_SDC := $(CACHE)/bin/packer-sdc
PLUGIN     := packer-plugin-jupyterhub

.PHONY: docs-example help build plugin install e2e e2e-vm e2e-provisioner bench-provision demo test lint fmt vet staticcheck bench bench-check bench-dhcheck bench-scan bench-dhparam fuzz generate generate-policy-docs tidy shellcheck regal actionlint clean release-snapshot e2e-release e2e-ansible ansible-collection ansible-lint bench-fleet

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

build: ## build bin/hubsecrets
	$(GO) build -o $(BIN)/hubsecrets ./cmd/hubsecrets

demo: build ## lay out the tutorial's tree and a correct one, check both
	@scripts/demo.sh $(BIN)/hubsecrets

# Tests that lack a tool or root skip (HUBSECRETS_REQUIRE_TOOLS=1, as in
# .ci/run, makes that a failure); internal/testenv logs each skip to
# HUBSECRETS_SKIP_LOG, listed after the run. The exit status is go test's.
PKGS ?= ./...
test: ## run the test suite (Go and Rego; PKGS=./checker/... for part), then list what was skipped and why
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	echo "$(GO) test -count=1 -timeout 40m $(PKGS)"; \
	HUBSECRETS_SKIP_LOG=$$log $(GO) test -count=1 -timeout 40m $(PKGS); rc=$$?; \
	if [ -s "$$log" ]; then \
		echo "skipped: $$(wc -l <"$$log") comparisons (a missing tool or root fails instead under HUBSECRETS_REQUIRE_TOOLS=1; a test that needs a non-root user only skips):"; \
		sort "$$log" | sed 's/^/  /'; \
	fi; exit $$rc

lint: fmt vet staticcheck docs-example ## gofmt, go vet and staticcheck must be clean; the documented example is the one e2e builds
lint: tidy shellcheck regal actionlint ## also: go.mod tidy, shellcheck on the scripts and the rendered first-boot script, Regal on policy/, actionlint on the workflows

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

docs-example:
	@scripts/e2e/docs-example.sh

$(BIN)/staticcheck: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../$(BIN)/staticcheck honnef.co/go/tools/cmd/staticcheck

staticcheck: $(BIN)/staticcheck
	$(BIN)/staticcheck ./...

tidy:
	$(GO) mod tidy -diff
	cd tools && $(GO) mod tidy -diff

shellcheck:
	@scripts/shellcheck.sh

$(BIN)/regal: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../$(BIN)/regal github.com/open-policy-agent/regal

regal: $(BIN)/regal ## Regal (the Rego linter) on policy/, configured in .regal/config.yaml
	$(BIN)/regal lint policy/

$(BIN)/actionlint: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../$(BIN)/actionlint github.com/rhysd/actionlint/cmd/actionlint

# The workflows, and the example that uses action.yml (actionlint checks a
# composite action through the workflows that use it: its inputs). With
# shellcheck on PATH, run: blocks are checked too.
actionlint: $(BIN)/actionlint
	$(BIN)/actionlint .github/workflows/*.yml examples/ci/github-actions.yml

bench: bench-check bench-dhcheck ## run the Go benchmarks (policy evaluation, collector, DH generation and check vs openssl)
	$(GO) test -run='^$$' -bench=. -benchtime=3x ./internal/dhparam
	$(GO) test -run='^$$' -bench=. ./checker/...

bench-check: build ## hubsecrets check end to end vs stat(1) of the same files
	@scripts/bench-check.sh $(BIN)/hubsecrets

bench-dhcheck: build ## hubsecrets facts and dhparam --check vs openssl dhparam -check, 2048 bits (N=7 rounds)
	@scripts/bench-dhcheck.sh $(BIN)/hubsecrets $(N)

bench-scan: build ## check --tar vs tar -tvf on a 1 GiB archive; 50 SSH hosts at --parallel 1 vs 16 (root)
	@scripts/bench-scan.sh $(BIN)/hubsecrets
	@scripts/bench-ssh.sh $(BIN)/hubsecrets

bench-provision: plugin ## wall time of the jupyterhub-secrets provisioner vs the tutorial's commands as a shell provisioner
	@scripts/bench-provision.sh $(N)

bench-dhparam: ## hubsecrets dhparam vs openssl dhparam at 2048 bits (N=7 rounds)
	@scripts/bench-dhparam.sh $(N)

fuzz: ## run each fuzz target briefly (FUZZTIME=30s)
	$(GO) test -run='^$$' -fuzz=FuzzParsePEM -fuzztime=$${FUZZTIME:-30s} ./internal/dhparam
	$(GO) test -run='^$$' -fuzz=FuzzOpenTar -fuzztime=$${FUZZTIME:-30s} -fuzzminimizetime=50x ./checker/source
	$(GO) test -run='^$$' -fuzz=FuzzParseRemote -fuzztime=$${FUZZTIME:-30s} -fuzzminimizetime=50x ./checker/source
	$(GO) test -run='^$$' -fuzz=FuzzHubConfig -fuzztime=$${FUZZTIME:-30s} ./checker/hubconfig
	$(GO) test -run='^$$' -fuzz=FuzzNginx -fuzztime=$${FUZZTIME:-30s} ./checker/hubconfig

$(PACKER_SDC): go.mod
	scripts/testenv/packer-sdc.sh >/dev/null

generate: generate-policy-docs $(PACKER_SDC) ## regenerate the HCL2 spec, the Packer docs (.web-docs) and the policy's rule table
	PATH=$(abspath $(CACHE))/bin:$$PATH $(GO) generate ./...
	.web-docs/scripts/render.sh $(PACKER_SDC)

generate-policy-docs: ## rewrite policy/README.md's rule table and reference from the rules' METADATA
	$(GO) run ./policy/internal/gendoc -readme policy/README.md

plugin: $(PACKER_SDC) ## build bin/packer-plugin-jupyterhub and packer-sdc plugin-check it
	$(GO) build -o $(BIN)/$(PLUGIN) ./cmd/packer-plugin-jupyterhub
	cd $(BIN) && $(abspath $(PACKER_SDC)) plugin-check $(PLUGIN)

install: plugin ## install the plugin into the local Packer (packer plugins install --path)
	p=$$(command -v packer || scripts/testenv/packer.sh) && CHECKPOINT_DISABLE=1 $$p plugins install --path $(BIN)/$(PLUGIN) github.com/hubsecrets/jupyterhub

e2e-provisioner: ## real packer builds against a chrooted sshd on 127.0.0.1 (root, debootstrap; builds Packer v1.15.0 once)
	PACKER_ACC=1 $(GO) test -count=1 -run TestAcc -v -timeout 30m ./provisioner

ansible-collection: ## build the Ansible collection hubsecrets.jupyterhub into dist/ansible/ (ansible-galaxy; not committed)
	ansible-galaxy collection build ansible --force --output-path dist/ansible

# --offline: no network (nothing to install, no version check).
ansible-lint: ## Debian's ansible-lint on the Ansible collection
	cd ansible && ansible-lint --offline

e2e-ansible: ansible-lint ## the Ansible collection against 20 loopback hosts, as root and with become; compared with check --hosts (root)
	@scripts/e2e/ansible.sh

bench-fleet: ## Ansible forks 1 vs 16 vs check --hosts --parallel 1 vs 16 on 20 loopback hosts (root; HOSTS, N)
	@scripts/bench-fleet.sh $(N)

e2e: build plugin ## packer build, then boot instances with systemd-nspawn and Debian's real jupyterhub (root)
	@scripts/e2e/nspawn.sh

e2e-vm: build plugin ## packer build with the qemu builder (TCG), boot the image three times, check the disks (root)
	@scripts/e2e/vm.sh

# API_VERSION and the snapshot's version come from the built plugin's
# describe, as in .github/workflows/release.yml; the policy bundle is copied
# next to the other assets (goreleaser's before hook cannot write into dist/).
# GORELEASER_FLAGS: more goreleaser release flags (e.g. --config FILE).
release-snapshot: plugin ## goreleaser --snapshot into dist/: plugin zips, SHA256SUMS, CLI archives, policy bundle
	@gr=$$(scripts/testenv/goreleaser.sh) && d=$$($(BIN)/$(PLUGIN) describe) && \
	api=$$(jq -r .api_version <<<"$$d") && ver=$$(jq -r .version <<<"$$d") && ver=$${ver%%-*} && \
	echo "release-snapshot: version $$ver, plugin API $$api" && \
	API_VERSION=$$api SNAPSHOT_VERSION=$$ver $$gr release --snapshot --clean $(GORELEASER_FLAGS) && \
	cp bin/release/hubsecrets-policy_v$$ver.tar.gz dist/ && \
	(cd dist && sha256sum -c --quiet packer-plugin-jupyterhub_v$${ver}_SHA256SUMS)

e2e-release: ## make release-snapshot, install its linux/amd64 zip, packer init offline, packer build against a chrooted sshd (root)
	@scripts/e2e/release.sh

clean:
	rm -rf $(BIN) dist
