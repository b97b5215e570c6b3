# Packaging: release archives, the krew manifest, the command reference,
# and the extra tools the packaging e2e test runs. Included by the Makefile,
# whose VERSION, COMMIT and LDFLAGS it reuses so a release binary reports
# exactly what `make build` would.

.PHONY: dist krew-manifest docs docs-check packaging-tools e2e-packaging

# The version in archive names and in the krew manifest: plugin.yaml's, because the
# Helm install hook downloads the archive named after it.
RELEASE_VERSION ?= $(shell sed -n 's/^version: *"\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' plugin.yaml)

# Six cross builds into dist/ plus dist/checksums.txt; byte-for-byte
# reproducible. Repeated runs relink nothing (binaries are staged in .cache/).
dist:
	VERSION='$(VERSION)' COMMIT='$(COMMIT)' GO_LDFLAGS='$(LDFLAGS)' RELEASE_VERSION='$(RELEASE_VERSION)' \
		scripts/dist.sh

# Writes the krew manifest dist/regcheck.yaml from a fresh dist/: every
# sha256 comes from dist/checksums.txt, never from a hand edit. It is a
# release asset, published with the archives it describes, and never
# committed: a binary links the commit it is built from, so no committed
# manifest could carry checksums of that commit's own archives.
krew-manifest: dist
	RELEASE_VERSION='$(RELEASE_VERSION)' scripts/krew-manifest.sh dist/checksums.txt >dist/regcheck.yaml.tmp
	mv dist/regcheck.yaml.tmp dist/regcheck.yaml

# One markdown page per command, from the cobra tree itself.
docs:
	go run ./scripts/gendocs -out docs

# Fails when docs/ no longer matches the commands (run make docs).
docs-check:
	go run ./scripts/gendocs -out docs -check

# kubectl-krew, validate-krew-manifest and helm4, cached like
# scripts/build-tools.sh's tools.
packaging-tools:
	@scripts/build-packaging-tools.sh >/dev/null

# The packaging e2e test alone. It needs bin/kubectl-regcheck (the Helm
# plugin's install hook uses it) and dist/ (krew installs the archive); the
# test runs `make dist` itself when dist/ is missing or older than the binary.
e2e-packaging: tools packaging-tools build
	go test -count=1 -timeout $(E2E_TIMEOUT) -run 'TestPackaging' ./test/e2e/
