package env

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// AuditEvent is the part of an apiserver audit event (audit.k8s.io/v1, one
// JSON object per line of AuditLogPath) a test needs to say who did what.
type AuditEvent struct {
	Stage      string `json:"stage"`
	Verb       string `json:"verb"` // get, list, watch, create, update, patch, delete, ...
	RequestURI string `json:"requestURI"`
	User       struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	} `json:"user"`
	UserAgent string `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	Annotations map[string]string `json:"annotations"`
}

// AuditEvents reads the audit log, optionally keeping only the events of one
// user. The apiserver writes an event when the response completes, so a
// caller looking for a request it just made may need to poll.
func (c *Cluster) AuditEvents(username string) ([]AuditEvent, error) {
	f, err := os.Open(c.AuditLogPath)
	if err != nil {
		return nil, fmt.Errorf("opening audit log: %w", err)
	}
	defer f.Close()
	var events []AuditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		var ev AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			// The last line may be half written while the apiserver runs.
			continue
		}
		if username == "" || ev.User.Username == username {
			events = append(events, ev)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading audit log: %w", err)
	}
	return events, nil
}
