# hubsecrets: the single entry point. `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin
VERSION_PKG := github.com/hubsecrets/packer-plugin-jupyterhub/version
CACHE      := $(or $(HUBSECRETS_CACHE),.cache)
PACKER_SDC := $(CACHE)/bin/packer-sdc
PLUGIN     := packer-plugin-jupyterhub

.PHONY: docs-example help build plugin install e2e e2e-vm e2e-provisioner e2e-ansible ansible-collection ansible-lint bench-fleet bench-provision demo test lint fmt vet staticcheck bench bench-check bench-dhcheck bench-scan bench-dhparam fuzz generate clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

build: ## build bin/hubsecrets
	$(GO) build -o $(BIN)/hubsecrets ./cmd/hubsecrets

demo: build ## lay out the tutorial's tree and a correct one, check both
	@scripts/demo.sh $(BIN)/hubsecrets

test: ## run the full test suite (Go and Rego)
	$(GO) test -count=1 -timeout 40m ./...

lint: fmt vet staticcheck docs-example ## gofmt, go vet and staticcheck must be clean; the documented example is the one e2e builds

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

generate: $(PACKER_SDC) ## regenerate the HCL2 spec and the Packer docs (.web-docs)
	PATH=$(abspath $(CACHE))/bin:$$PATH $(GO) generate ./...
	.web-docs/scripts/render.sh $(PACKER_SDC)

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

clean:
	rm -rf $(BIN) dist
