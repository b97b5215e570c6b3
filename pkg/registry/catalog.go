package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// MaxCatalog bounds the repositories Catalog reads: enough to name a
// near miss, never a crawl of a large registry.
const MaxCatalog = 1000

// Catalog lists the repositories of the registry ref names (GET
// /v2/_catalog), with cred and the same challenge and token flow as every
// session, asking the scope registry:catalog:*. Many registries refuse it
// (Docker Hub, GHCR, anonymous clients); that is a *Failure like any other.
func (c *Client) Catalog(ctx context.Context, ref imageref.Reference, cred credentials.Credential) ([]string, error) {
	s := &Session{
		c:       c,
		ref:     ref,
		cred:    cred,
		actions: []string{"*"},
		scopes:  []string{"registry:catalog:*"},
		method:  AuthAnonymous,
	}
	if _, err := s.Authenticate(ctx); err != nil {
		return nil, err
	}
	u := c.baseURL(ref.Host)
	u.Path += "_catalog"
	u.RawQuery = fmt.Sprintf("n=%d", MaxCatalog)
	r, err := s.do(ctx, request{method: http.MethodGet, url: u, header: http.Header{"Accept": {"application/json"}}})
	if err != nil {
		return nil, err
	}
	var list struct {
		Repositories []string `json:"repositories"`
	}
	if r.Status != http.StatusOK || r.BodyErr != nil || json.Unmarshal(r.Body, &list) != nil {
		f := (&Failure{Reason: report.ReasonForbidden, Evidence: responseEvidence(r), Fault: s.fault(report.CauseCatalogRefused)}).answered(r)
		f.Step = report.StepCatalog
		return nil, s.fail(f)
	}
	if len(list.Repositories) > MaxCatalog {
		list.Repositories = list.Repositories[:MaxCatalog]
	}
	return list.Repositories, nil
}
