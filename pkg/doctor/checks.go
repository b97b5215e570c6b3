package doctor

import (
	"fmt"
	"strings"
)

// Check IDs, stable for --only/--skip and Result.Doctor.Check, in the
// order the report lists them.
const (
	HelmVersion      = "helm-version"
	Reachable        = "reachable"
	Credentials      = "credentials"
	Pull             = "pull"
	Push             = "push"
	Reference        = "reference"
	Staleness        = "staleness"
	WorkloadSettings = "workload-settings"
	RateLimit        = "rate-limit"
)

// IDs are every check, in report order.
var IDs = []string{HelmVersion, Reachable, Credentials, Pull, Push, Reference, Staleness, WorkloadSettings, RateLimit}

// Checks is the set of enabled checks; the zero value enables all.
type Checks struct {
	only map[string]bool
	skip map[string]bool
}

// ParseChecks reads --only and --skip (IDs, comma lists allowed). An
// unknown ID is an error, so a typo never silently disables nothing.
func ParseChecks(only, skip []string) (Checks, error) {
	var c Checks
	var err error
	if c.only, err = idSet("--only", only); err != nil {
		return Checks{}, err
	}
	if c.skip, err = idSet("--skip", skip); err != nil {
		return Checks{}, err
	}
	return c, nil
}

func idSet(flag string, values []string) (map[string]bool, error) {
	if len(values) == 0 {
		return nil, nil
	}
	set := map[string]bool{}
	for _, v := range values {
		for _, id := range strings.Split(v, ",") {
			id = strings.ToLower(strings.TrimSpace(id))
			if id == "" {
				continue
			}
			if !known(id) {
				return nil, fmt.Errorf("%s: unknown check %q (checks: %s)", flag, id, strings.Join(IDs, ", "))
			}
			set[id] = true
		}
	}
	return set, nil
}

func known(id string) bool {
	for _, k := range IDs {
		if k == id {
			return true
		}
	}
	return false
}

// Enabled reports whether check id runs.
func (c Checks) Enabled(id string) bool {
	if c.only != nil && !c.only[id] {
		return false
	}
	return !c.skip[id]
}
