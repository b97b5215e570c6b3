package registry

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// Tags list bounds when TagsOptions leave them zero. distribution clamps
// n to its own maximum and says where to go on with a Link header, so a
// large n is safe to ask.
const (
	DefaultTagsPageSize = 1000
	DefaultTagsMaxPages = 20
)

// maxTagsBody caps one page: Google's registries ignore n and send every
// tag with a map of every manifest, megabytes for a large repository.
const maxTagsBody = 16 << 20

// TagsOptions bound one tags list.
type TagsOptions struct {
	PageSize int // n of each page; DefaultTagsPageSize when zero
	MaxPages int // pages read at most; DefaultTagsMaxPages when zero
}

// TagList is a repository's tags as its tags list gave them.
type TagList struct {
	Tags []string
	// Pages is how many pages were read (one request each).
	Pages int
	// Truncated: the page limit stopped the list before its end.
	Truncated bool
	// CredentialSource names the credential the list was read with.
	CredentialSource string
}

// tagsEntry is one tags list per (repository, credential) per client: a
// scan of many workloads on one repository lists it once.
type tagsEntry struct {
	once sync.Once
	list TagList
	err  error
}

// ListTags reads every page of ref's repository's tags list with cred (the
// credential the scan already chose for that image), following the
// registry's pagination: the Link header when it sends one, else n and
// last while pages come back full. Concurrent and later calls for the same
// repository and credential share one list. The context bounds it all.
func (c *Client) ListTags(ctx context.Context, ref imageref.Reference, cred credentials.Credential, o TagsOptions) (TagList, error) {
	if o.PageSize <= 0 {
		o.PageSize = DefaultTagsPageSize
	}
	if o.MaxPages <= 0 {
		o.MaxPages = DefaultTagsMaxPages
	}
	key := ref.Host + "\x00" + ref.Repository + "\x00" + cred.Fingerprint()
	v, _ := c.tagLists.LoadOrStore(key, &tagsEntry{})
	e := v.(*tagsEntry)
	e.once.Do(func() { e.list, e.err = c.listTags(ctx, ref, cred, o) })
	return e.list, e.err
}

func (c *Client) listTags(ctx context.Context, ref imageref.Reference, cred credentials.Credential, o TagsOptions) (TagList, error) {
	s := c.NewSession(ref, cred)
	// The list is read with the credential a scan's HEAD already
	// succeeded with, and a token batched for many repositories that the
	// HEAD took unproven is the one this session finds: the tags request
	// is its proof, as the HEAD's was (a 401 on it reads as
	// InvalidCredentials, manifestFailure). Without this each list sent a
	// GET /v2/ of its own, all at once before any was filed as verified.
	s.requestProves = true
	if _, err := s.Authenticate(ctx); err != nil {
		return TagList{}, err
	}
	if ref.Registry == imageref.DockerHubDomain {
		c.trace.printf("listing the tags of %s: Docker Hub counts tags lists against no pull limit (only manifest GETs count)", ref.Repository)
	}
	out := TagList{CredentialSource: s.Source()}
	seen := map[string]bool{}
	u := s.c.baseURL(ref.Host)
	u.Path += ref.Repository + "/tags/list"
	u.RawQuery = url.Values{"n": {strconv.Itoa(o.PageSize)}}.Encode()
	for u != nil {
		if out.Pages == o.MaxPages {
			out.Truncated = true
			c.trace.printf("tags list of %s stopped at the page limit (%d pages, %d tags)", ref.Repository, o.MaxPages, len(out.Tags))
			break
		}
		page, next, err := s.tagsPage(ctx, u)
		if err != nil {
			return TagList{}, err
		}
		out.Pages++
		fresh := 0
		for _, t := range page {
			if !seen[t] {
				seen[t] = true
				out.Tags = append(out.Tags, t)
				fresh++
			}
		}
		switch {
		case next != nil:
			u = next
		case len(page) == o.PageSize && fresh > 0:
			// No Link, but a full page: ask on from the last tag, as
			// the distribution spec's n and last allow. A registry that
			// ignores last repeats the page and adds nothing: stop. One
			// that ignores n sends more than n: that was all of it.
			nu := *u
			q := nu.Query()
			q.Set("n", strconv.Itoa(o.PageSize))
			q.Set("last", page[len(page)-1])
			nu.RawQuery = q.Encode()
			u = &nu
		default:
			u = nil
		}
	}
	return out, nil
}

// tagsPage reads one page of a tags list and where the next one is.
func (s *Session) tagsPage(ctx context.Context, u *url.URL) ([]string, *url.URL, error) {
	r, err := s.do(ctx, request{method: http.MethodGet, url: u, limit: maxTagsBody})
	if err != nil {
		return nil, nil, err
	}
	if f := s.manifestFailure(r); f != nil {
		f.Step = report.StepTags
		return nil, nil, f
	}
	var list struct {
		Tags []string `json:"tags"`
	}
	if err := r.BodyErr; err != nil {
		f := &Failure{Reason: report.ReasonServerError, HTTPStatus: r.Status,
			Fault:    s.fault(report.CauseTagsUnreadable),
			Evidence: report.Evidence{"httpStatus": r.Status}}
		f.Step, f.BodyProblem = report.StepTags, bodyProblem(err)
		return nil, nil, f
	}
	if err := json.Unmarshal(r.Body, &list); err != nil {
		f := &Failure{Reason: report.ReasonServerError, HTTPStatus: r.Status,
			Fault:    s.fault(report.CauseUnparsable, "tags list"),
			Evidence: report.Evidence{"parseError": err.Error()}}
		f.Step = report.StepTags
		return nil, nil, f
	}
	return list.Tags, nextPage(u, r.Header.Values("Link")), nil
}

// nextPage is the rel="next" target of a Link header (RFC 8288), resolved
// against the page's URL, on the same host only so credentials never go
// elsewhere. Written here because go-containerregistry keeps its own
// parser unexported and this client does not use its transport.
func nextPage(base *url.URL, links []string) *url.URL {
	for _, h := range links {
		for _, link := range strings.Split(h, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(link), ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			next := false
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && strings.EqualFold(strings.Trim(v, `"`), "next") {
					next = true
				}
			}
			if !next {
				continue
			}
			u, err := base.Parse(strings.TrimSuffix(strings.TrimPrefix(target, "<"), ">"))
			if err != nil || u.Host != base.Host || u.Scheme != base.Scheme {
				return nil
			}
			return u
		}
	}
	return nil
}
