//go:build unix && !linux

package env

import "syscall"

// sysProcAttr puts the child in its own process group so Stop can signal
// everything it spawned.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
