// Command sleeper is the one program in the e2e node's images: the pause
// image of every pod sandbox and the process of every test container. It
// sleeps until SIGTERM or SIGINT and then exits 0, so a pod stops at once.
// Built static (CGO_ENABLED=0) so an image of this file alone runs.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
