# regcheck — build, test, demo. Tools are built from the Go module proxy
# into .cache/ (git-ignored) once and reused.

SHELL := /bin/bash
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/regcheck/regcheck/pkg/version.Version=$(VERSION) -X github.com/regcheck/regcheck/pkg/version.Commit=$(COMMIT)
BIN     := bin/kubectl-regcheck
STATICCHECK_VERSION := v0.8.2
TOOLBIN := $(CURDIR)/.cache/bin
E2E_TIMEOUT ?= 40m

.PHONY: all build test unit e2e fmt-check vet lint tidy-check tools demo clean

all: build

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kubectl-regcheck

# Everything the project checks. CI runs exactly this.
test: fmt-check vet lint unit e2e

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^test/tools/')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

$(TOOLBIN)/staticcheck:
	GOBIN=$(TOOLBIN) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(TOOLBIN)/staticcheck
	$(TOOLBIN)/staticcheck ./...

# Unit tests only: fast, no real cluster or tools.
unit:
	go test -short -count=1 ./...

# End-to-end on the real environment: etcd, kube-apiserver,
# kube-controller-manager, kubectl and helm built from the module proxy,
# and an in-process distribution registry.
e2e: tools build
	go test -count=1 -timeout $(E2E_TIMEOUT) ./test/e2e/...

tools:
	@scripts/build-tools.sh >/dev/null

# The main job end to end on the embedded local environment.
demo: tools build
	go run ./test/demo

clean:
	rm -rf bin dist

-include mk/*.mk
