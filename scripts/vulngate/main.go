// Command vulngate reads govulncheck -format json on stdin and fails when
// a vulnerability is reachable from regcheck's code (a finding whose trace
// reaches a function) and is not accepted in the -accept file. Found in
// imported packages or required modules but never called is reported, not
// failed, as govulncheck itself does.
//
// Written by hand because govulncheck has no exclusion list: an accepted
// entry must name the vulnerability and why, so a new one always fails.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// message is the part of govulncheck's JSON stream used here.
type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
}

// vuln is one OSV entry as it affects this module.
type vuln struct {
	id, summary, module, found, fixed string
	called                            bool
}

func main() {
	acceptFile := flag.String("accept", "", "file of accepted vulnerabilities: ID, then the reason, one per line")
	flag.Parse()
	accepted, err := readAccepted(*acceptFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vulngate: %v\n", err)
		os.Exit(2)
	}
	vulns, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vulngate: reading govulncheck's output: %v\n", err)
		os.Exit(2)
	}
	os.Exit(judge(os.Stdout, vulns, accepted))
}

func readAccepted(path string) (map[string]string, error) {
	out := map[string]string{}
	if path == "" {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s: %s is accepted without a reason", path, id)
		}
		out[id] = strings.TrimSpace(reason)
	}
	return out, nil
}

// read folds the stream into one vuln per ID: called when any finding's
// trace reaches a function.
func read(r io.Reader) (map[string]*vuln, error) {
	vulns := map[string]*vuln{}
	get := func(id string) *vuln {
		if vulns[id] == nil {
			vulns[id] = &vuln{id: id}
		}
		return vulns[id]
	}
	dec := json.NewDecoder(bufio.NewReader(r))
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return vulns, nil
		} else if err != nil {
			return nil, err
		}
		switch {
		case m.OSV != nil:
			get(m.OSV.ID).summary = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			v, top := get(m.Finding.OSV), m.Finding.Trace[0]
			v.module, v.found, v.fixed = top.Module, top.Version, m.Finding.FixedVersion
			v.called = v.called || top.Function != ""
		}
	}
}

// judge prints every reachable vulnerability and returns the exit code: 1
// when one is not accepted, or when an accepted one is no longer reachable:
// the accept file must say only what is true today.
func judge(w io.Writer, vulns map[string]*vuln, accepted map[string]string) int {
	ids := make([]string, 0, len(vulns))
	notCalled := 0
	for id, v := range vulns {
		if v.module == "" {
			continue // an OSV entry of the database that matched nothing
		}
		if !v.called {
			notCalled++
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	failed := 0
	for _, id := range ids {
		v := vulns[id]
		what := fmt.Sprintf("%s %s@%s (fixed in %s): %s", id, v.module, v.found, v.fixed, v.summary)
		if reason, ok := accepted[id]; ok {
			fmt.Fprintf(w, "accepted  %s\n          why: %s\n", what, reason)
			continue
		}
		failed++
		fmt.Fprintf(w, "VULNERABLE %s\n", what)
	}
	fmt.Fprintf(w, "govulncheck: %d reachable (%d accepted, %d not), %d in dependencies but never called\n",
		len(ids), len(ids)-failed, failed, notCalled)
	stale := make([]string, 0, len(accepted))
	for id := range accepted {
		if v, ok := vulns[id]; !ok || !v.called {
			stale = append(stale, id)
		}
	}
	slices.Sort(stale)
	for _, id := range stale {
		fmt.Fprintf(w, "STALE     %s is accepted but no longer reachable: remove it from scripts/vuln-accepted.txt\n", id)
	}
	if len(stale) > 0 {
		return 1
	}
	if failed > 0 {
		fmt.Fprintln(w, "upgrade the module (go get MODULE@FIXED; go mod tidy) or, if it cannot be upgraded yet, list it in scripts/vuln-accepted.txt with the reason")
		return 1
	}
	return 0
}
