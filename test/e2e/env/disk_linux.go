package env

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// evictionLine is the free space under which the node's kubelet evicts
// pods (nodefs and imagefs). minNodeRoom is what StartNode wants free
// before it starts: the pulls, the logs and the runtime's snapshots of a
// run take a few hundred MB, and the line must not be met halfway.
const (
	evictionLine = "100Mi"
	minNodeRoom  = 2 << 30
)

// diskRoom fails fast when the disk holding dir is nearly full. Without it
// a node on a full disk starts, reports DiskPressure, evicts the test's
// pods and leaves the tests waiting for pods that never run.
func diskRoom(dir string) error {
	p := dir
	for {
		if _, err := os.Stat(p); err == nil || filepath.Dir(p) == p {
			break
		}
		p = filepath.Dir(p)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(p, &st); err != nil {
		return fmt.Errorf("checking free space under %s: %w", p, err)
	}
	free := st.Bavail * uint64(st.Bsize)
	if free < minNodeRoom {
		return fmt.Errorf("the disk holding %s has %d MiB free; a node needs %d MiB (its kubelet evicts pods under %s): free some space (old Go build caches: go clean -cache) and run again",
			p, free>>20, minNodeRoom>>20, evictionLine)
	}
	return nil
}
