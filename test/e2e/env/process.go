package env

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a child process started in its own process group, with stdout
// and stderr appended to a log file. Its own group lets Stop signal anything
// it spawned too, and keeps a Ctrl-C on the test from racing our shutdown.
type Process struct {
	Name    string // short name used in errors, e.g. "etcd"
	LogPath string

	cmd     *exec.Cmd
	logFile *os.File
	done    chan struct{} // closed once Wait has returned
	waitErr error

	stopOnce sync.Once
	stopErr  error
}

// StartProcess starts bin with args, logging to dir/<name>.log.
func StartProcess(name, dir, bin string, args ...string) (*Process, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, logFile: f, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id (also its process group id).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited, and with what error.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Stop sends SIGTERM to the process group, then SIGKILL after grace, and
// waits for the process to exit. It is safe to call more than once. An exit
// caused by our own signal is not an error.
func (p *Process) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop(grace) })
	return p.stopErr
}

func (p *Process) stop(grace time.Duration) error {
	defer p.logFile.Close()
	pgid := p.cmd.Process.Pid
	select {
	case <-p.done:
		// Exited on its own: reap stragglers in its group all the same.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return p.exitError(false)
	default:
	}
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signalling %s: %w", p.Name, err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	killed := false
	select {
	case <-p.done:
	case <-timer.C:
		killed = true
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	// Children that ignored SIGTERM must not outlive the group leader.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if killed {
		return fmt.Errorf("%s did not exit within %s of SIGTERM; killed", p.Name, grace)
	}
	return p.exitError(true)
}

// exitError reports an exit we did not ask for. After our SIGTERM any exit
// status is fine: some servers die of the signal, others catch it and exit
// with a status of their own.
func (p *Process) exitError(signalled bool) error {
	if signalled || p.waitErr == nil {
		return nil
	}
	return fmt.Errorf("%s exited: %w", p.Name, p.waitErr)
}

// Tail returns the last n lines of the process log.
func (p *Process) Tail(n int) string { return TailFile(p.LogPath, n) }

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. The
// port is released before returning, so a race with another process is
// possible; callers that bind it retry on "address already in use".
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// TailFile returns the last n lines of the file at path, or a note saying
// why it could not be read.
func TailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return tailLines(string(data), n)
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
