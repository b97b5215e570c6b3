// Builds regclient's regctl, the second peer the benchmark runs
// (`regctl image digest`, sequential and 16 at a time). A module of its own
// with a cache key of its own, so pinning it never rebuilds the other tools.
module github.com/regcheck/regcheck/test/tools/regctl

go 1.26.0

require github.com/regclient/regclient v0.11.7

require (
	github.com/docker/libtrust v0.0.0-20160708172513-aabc10ec26b7 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/sirupsen/logrus v1.10.2 // indirect
	github.com/spf13/cobra v1.10.2 // indirect
	github.com/spf13/pflag v1.0.10 // indirect
	github.com/ulikunitz/xz v0.5.17 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/term v0.47.0 // indirect
)
