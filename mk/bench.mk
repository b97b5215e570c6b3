# Benchmark: regcheck on a cluster of realistic size (5000 pods, 1000
# Deployments, 50 namespaces, 500 unique images) against a token-auth
# registry made remote by a 50 ms proxy (HTTPS with HTTP/2, then plain HTTP), next to `kubectl get pods -A`,
# client-go's protobuf and JSON LISTs, and `crane digest` and `regctl image digest` loops (regctl from
# scripts/build-tools.sh, so make tools), sequential and 16 at a time, then a sweep of the registry phase
# over token batch sizes and concurrencies (-sweep-batches, -sweep-concurrency). Not part of make test (a full run
# takes minutes); make e2e runs a tiny smoke run of it (test/bench TestSmoke).
# Flags go through BENCH_FLAGS, e.g. make bench BENCH_FLAGS='-pods 200 -deployments 40 -namespaces 4 -images 20 -repos 10 -scales ""'.

.PHONY: bench bench-large bench-crane

BENCH_FLAGS ?=
# The same cache key scripts/build-tools.sh uses for its tools (and
# test/bench recomputes): the Go version and the pinned module files.
CRANE_KEY = $(shell (go version; cat test/tools/crane/go.mod test/tools/crane/go.sum) | sha256sum | cut -c1-16)
CRANE = $(CURDIR)/.cache/tools/$(CRANE_KEY)/bin/crane

bench: tools build bench-crane
	go run ./test/bench -crane '$(CRANE)' $(BENCH_FLAGS)

# crane, built once from test/tools/crane into .cache/tools/<key>/bin.
bench-crane:
	@if [ ! -x '$(CRANE)' ]; then \
		echo "building crane (once; cached in $(dir $(CRANE)))" >&2; \
		mkdir -p '$(dir $(CRANE))'; \
		(cd test/tools/crane && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o '$(CRANE).tmp.$$$$' github.com/google/go-containerregistry/cmd/crane) && \
		mv '$(CRANE).tmp.$$$$' '$(CRANE)'; \
	fi

# The largest scale measured here: 50,000 pods over 5,000 images, with 500
# and 5,000 pods on the way. crane runs on 500 of the 5,000 images and its
# time is scaled (a sequential loop is the sum of its parts); a full loop
# would take about a quarter of an hour.
bench-large: tools build bench-crane
	go run ./test/bench -crane '$(CRANE)' -pods 50000 -deployments 10000 -namespaces 500 -images 5000 -repos 2000 -scales 500,5000 -crane-sample 500 -timeout 90m $(BENCH_FLAGS)
