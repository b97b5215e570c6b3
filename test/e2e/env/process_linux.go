package env

import "syscall"

// sysProcAttr puts the child in its own process group and has the kernel
// kill it if the test binary dies without running Stop (a panic or a go test
// timeout), so no etcd or apiserver outlives the run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
