package env

import (
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestProcessStopTerminates(t *testing.T) {
	p, err := StartProcess("sleeper", t.TempDir(), "sh", "-c", "echo started; exec sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	processWaitLog(t, p, "started")
	start := time.Now()
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Stop took %s; SIGTERM should end sleep at once", d)
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if exited, _ := p.Exited(); !exited {
		t.Error("process not reported as exited after Stop")
	}
}

func TestProcessStopKillsGroupIgnoringTERM(t *testing.T) {
	// The shell ignores SIGTERM and so does its background child, which
	// only the group-wide SIGKILL reaches.
	p, err := StartProcess("stubborn", t.TempDir(), "sh", "-c",
		`trap "" TERM; sleep 60 & echo child $!; wait`)
	if err != nil {
		t.Fatal(err)
	}
	line := processWaitLog(t, p, "child ")
	child, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "child ")))
	if err != nil {
		t.Fatalf("parsing child pid from %q: %v", line, err)
	}
	err = p.Stop(300 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop = %v, want an error saying it was killed", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for processAlive(child) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d still alive after Stop", child)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestProcessExitedOnItsOwn(t *testing.T) {
	p, err := StartProcess("failing", t.TempDir(), "sh", "-c", "echo boom; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if err := p.Stop(time.Second); err == nil {
		t.Error("Stop after an unrequested exit 3 returned nil")
	}
	if got := p.Tail(5); got != "boom" {
		t.Errorf("Tail = %q, want boom", got)
	}
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("listening on the free port %d: %v", port, err)
	}
	l.Close()
}

// processAlive reports whether pid exists and is not a zombie: once its parent is
// killed, who reaps it (and when) depends on the machine's init.
func processAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no procfs: trust kill(0)
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// processWaitLog waits for a log line starting with prefix and returns it.
func processWaitLog(t *testing.T, p *Process, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(p.Tail(20), "\n") {
			if strings.HasPrefix(line, prefix) {
				return line
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %q line in %s:\n%s", prefix, p.LogPath, p.Tail(20))
	return ""
}
