package credentials

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyFence keeps cluster and CLI code out of this package: the
// cluster side reads Secrets and hands us their bytes.
func TestDependencyFence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"k8s.io/client-go", "github.com/spf13/cobra", "helm.sh/helm/v3/pkg/helmpath"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("pkg/credentials depends on %s", dep)
			}
		}
	}
}
