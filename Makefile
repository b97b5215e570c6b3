# regcheck — build, test, demo. Tools are built from the Go module proxy
# into .cache/ (git-ignored) once and reused.

SHELL := /bin/bash
# The project's Go: the go command fetches it from the module proxy.
export GOTOOLCHAIN := go1.27.3
# Every build, vet, test and tool compiles with the release's settings (no
# cgo, trimmed paths), so the packages they share are compiled once per run:
# with cgo on, vet and the tests compiled the whole dependency graph a second
# time beside make build's and the tools' (the cold run, README "Testing").
export CGO_ENABLED := 0
export GOFLAGS := -trimpath $(GOFLAGS)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/regcheck/regcheck/pkg/version.Version=$(VERSION) -X github.com/regcheck/regcheck/pkg/version.Commit=$(COMMIT)
BIN     := bin/kubectl-regcheck
STATICCHECK_VERSION := v0.8.2
TOOLBIN := $(CURDIR)/.cache/bin
E2E_TIMEOUT ?= 40m

.PHONY: all build test checks unit e2e e2e-helm314 fmt-check vet lint vuln tidy-check fuzz fuzz-brief tools demo clean

# Every fuzz target as package:Name; each parses untrusted input.
FUZZ_TARGETS := \
	./pkg/registry:FuzzParseChallenge \
	./pkg/registry:FuzzParseTokenResponse \
	./pkg/imageref:FuzzParse \
	./pkg/credentials:FuzzParseDockerConfigJSON \
	./pkg/credentials:FuzzParseDockerCfg \
	./pkg/scan:FuzzNormalizeImageID \
	./pkg/pullfailure:FuzzClassify \
	./pkg/nodecreds:FuzzMatchImage \
	./pkg/versions:FuzzParse
FUZZTIME ?= 60s

all: build

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kubectl-regcheck

# Everything the project checks. CI runs exactly this. The real tools
# (scripts/build-tools.sh: most of a cold run's compiling) build beside the
# static checks and unit tests, which leave a core idle while they link, wait
# on the disk or run a test; the end-to-end tests need both.
test:
	@scripts/build-tools.sh >/dev/null & tools=$$!; \
	$(MAKE) checks; checks=$$?; wait $$tools; built=$$?; \
	if [ $$built -ne 0 ]; then echo "make tools failed" >&2; fi; \
	[ $$checks -eq 0 ] && [ $$built -eq 0 ] && $(MAKE) e2e

# The checks that need no real environment, one after another.
checks: fmt-check tidy-check vet lint vuln unit fuzz-brief docs-check

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^test/tools/')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

# go.mod and go.sum must already be tidy.
tidy-check:
	@cp go.mod .cache-go.mod.bak && cp go.sum .cache-go.sum.bak; \
	go mod tidy; \
	if ! diff -q go.mod .cache-go.mod.bak >/dev/null || ! diff -q go.sum .cache-go.sum.bak >/dev/null; then \
		mv .cache-go.mod.bak go.mod; mv .cache-go.sum.bak go.sum; echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; fi; \
	rm -f .cache-go.mod.bak .cache-go.sum.bak

# Each fuzz target for FUZZTIME (make fuzz FUZZTIME=5m).
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($(FUZZTIME))"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; done

# A short pass of every fuzz target, part of make test. Counted in
# executions, not seconds: a count is the same work on a busy machine as on
# an idle one (and go1.26's coordinator could fail a timed run at its
# deadline, golang/go#75804).
fuzz-brief:
	@$(MAKE) -s fuzz FUZZTIME=5000x

$(TOOLBIN)/staticcheck:
	GOBIN=$(TOOLBIN) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(TOOLBIN)/staticcheck
	$(TOOLBIN)/staticcheck ./...

# govulncheck, offline, against the database the module proxy serves
# (test/tools/vuln); fails on a reachable vulnerability not accepted with a
# reason in scripts/vuln-accepted.txt.
vuln:
	@scripts/vulncheck.sh

# Unit tests only: fast, no real cluster or tools.
unit:
	go test -short -count=1 ./...

# End-to-end on the real environment: etcd, kube-apiserver,
# kube-controller-manager, kubectl and helm built from the module proxy,
# an in-process distribution registry, and a real node (the kubelet, and
# containerd and runc from Debian's packages: scripts/node-runtime.sh, as
# root). Here a node that cannot run fails the real-node tests instead of
# skipping them; `go test` alone skips them with the reason. ./test/bench is
# the benchmark's smoke run (TestSmoke: a tiny scale, nothing timed).
#
# What the tests build for themselves (Helm v3.14.4, krew and Helm 4, the
# release archives for six platforms: most of a cold run's e2e time) starts
# at once in the background, at nice 10, in the order the tests want it: it
# soaks up the CPU the tests leave idle while they wait on the cluster, the
# node and the registry. A test that gets there first waits on the same
# build's lock (scripts/toolcache.sh, scripts/dist.sh) rather than starting
# another; with warm caches the whole prebuild takes seconds.
#
# The release archives it builds and installs are one per path through the
# packaging, not the six of make dist: linux/amd64 and linux/arm64 (this
# host, the image's two) and windows/amd64 (the .exe). Each other platform
# is one more cold compile of the whole dependency graph, 3.5 to 5 minutes
# of a cold run each (measured 2026-11-30); make e2e-packaging installs all six.
E2E_PLATFORMS := linux/amd64 linux/arm64 windows/amd64
e2e: tools build
	@export PLATFORMS='$(E2E_PLATFORMS)'; \
	(nice -n 10 scripts/build-helm314.sh && nice -n 10 scripts/build-packaging-tools.sh && \
	  nice -n 10 $(MAKE) -s dist) >/dev/null 2>.cache/e2e-prebuild.log & prebuild=$$!; \
	REGCHECK_E2E_HELM314=1 REGCHECK_E2E_NODE=required go test -count=1 -timeout $(E2E_TIMEOUT) ./test/e2e/... ./test/bench/; \
	rc=$$?; if ! wait $$prebuild; then echo "e2e prebuild failed:" >&2; cat .cache/e2e-prebuild.log >&2; fi; exit $$rc

tools:
	@scripts/build-tools.sh >/dev/null

# helm.version under Helm v3.14.4, a release with the known anonymous-push
# bug, built once from the module proxy (scripts/build-helm314.sh; about as
# much CPU as the Helm 3 of make tools). make e2e (so make test) runs it
# too; a bare go test skips it unless REGCHECK_E2E_HELM314 is set.
e2e-helm314: tools packaging-tools build
	REGCHECK_E2E_HELM314=1 go test -count=1 -timeout $(E2E_TIMEOUT) -run 'TestHelmVersion' ./test/e2e/

# The main job end to end on the embedded local environment.
demo: tools build
	go run ./test/demo

clean:
	rm -rf bin dist

-include mk/*.mk
