package doctor

import (
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// verify lists the commands that show a fix worked, for a result of
// check id: a rerun of just that check, and a standard tool's view.
func (d *run) verify(id string, r report.Result) []string {
	cmd := d.cfg.Command
	if cmd == "" {
		cmd = "kubectl regcheck"
	}
	doctor := func(args string) string {
		return strings.Join(append([]string{cmd, "doctor", args}, d.cfg.Flags...), " ")
	}
	image := r.Image
	if r.Doctor != nil && r.Doctor.Corrected != "" {
		image = r.Doctor.Corrected
	}
	workload := ""
	if r.Workload != "" {
		workload = strings.ToLower(r.Workload) + " -n " + r.Namespace
	}
	switch {
	case id == HelmVersion:
		return []string{"helm version --template '{{.Version}}'"}
	case id == Reachable || id == RateLimit || (id == Credentials && r.Registry != "" && workload == ""):
		if r.Registry == "" {
			return nil
		}
		return []string{doctor("--registry " + r.Registry + " --only " + id)}
	case id == Push:
		return []string{doctor("--push-target " + image + " --only push")}
	case id == Staleness && workload != "":
		return []string{"kubectl rollout status " + workload, doctor(workload + " --only staleness")}
	case workload != "":
		return []string{"kubectl get " + workload + " -o yaml", doctor(workload + " --only " + id)}
	case image != "":
		if _, bare := bareDigest(image); bare {
			image = "REGISTRY/REPOSITORY@" + strings.TrimPrefix(image, "oci://")
		}
		out := []string{doctor("--image " + image + " --only " + id)}
		if id == Pull || id == Reference {
			out = append(out, "crane digest "+strings.TrimPrefix(image, "oci://"))
		}
		return out
	}
	return nil
}
