// Command kubectl-regcheck is regcheck: a kubectl plugin (kubectl regcheck)
// and a Helm plugin (helm regcheck) in one binary.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/regcheck/regcheck/pkg/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Execute(ctx, genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args[1:], os.Getenv)
	stop()
	os.Exit(code)
}
