package registry

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
)

// tagsServer serves 25 tags in pages of at most n, sending a Link header
// when link is true and honouring last when honourLast is true.
func tagsServer(t *testing.T, link, honourLast bool) (*httptest.Server, *int) {
	var all []string
	for i := range 25 {
		all = append(all, "1."+strconv.Itoa(i)+".0")
	}
	slices.Sort(all)
	var mu sync.Mutex
	lists := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		if r.URL.Path != "/v2/app/tags/list" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		mu.Lock()
		lists++
		mu.Unlock()
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		start := 0
		if last := r.URL.Query().Get("last"); last != "" && honourLast {
			start, _ = slices.BinarySearch(all, last)
			start++
		}
		end := min(start+n, len(all))
		if link && end < len(all) {
			w.Header().Set("Link", `</v2/app/tags/list?last=`+url.QueryEscape(all[end-1])+`&n=`+strconv.Itoa(n)+`>; rel="next"`)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"name": "app", "tags": all[start:end]})
	}))
	t.Cleanup(srv.Close)
	return srv, &lists
}

func listOf(t *testing.T, srv *httptest.Server, o TagsOptions) (TagList, error) {
	t.Helper()
	c, err := NewClient(Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ref, err := imageref.Parse(strings.TrimPrefix(srv.URL, "http://") + "/app:1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	return c.ListTags(context.Background(), ref, credentials.Credential{Source: credentials.SourceAnonymous}, o)
}

func TestListTagsPaginates(t *testing.T) {
	for _, tc := range []struct {
		name             string
		link, honourLast bool
		o                TagsOptions
		tags, pages      int
		truncated        bool
	}{
		{"Link header", true, true, TagsOptions{PageSize: 10}, 25, 3, false},
		{"n and last without Link", false, true, TagsOptions{PageSize: 10}, 25, 3, false},
		{"last ignored: stops on the repeated page", false, false, TagsOptions{PageSize: 10}, 10, 2, false},
		{"page limit", true, true, TagsOptions{PageSize: 10, MaxPages: 2}, 20, 2, true},
		{"one page", true, true, TagsOptions{}, 25, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := tagsServer(t, tc.link, tc.honourLast)
			l, err := listOf(t, srv, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Tags) != tc.tags || l.Pages != tc.pages || l.Truncated != tc.truncated {
				t.Errorf("%d tags, %d pages, truncated %v; want %d, %d, %v", len(l.Tags), l.Pages, l.Truncated, tc.tags, tc.pages, tc.truncated)
			}
		})
	}
}

func TestListTagsOncePerRepositoryAndCredential(t *testing.T) {
	srv, lists := tagsServer(t, true, true)
	c, err := NewClient(Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ref, _ := imageref.Parse(strings.TrimPrefix(srv.URL, "http://") + "/app:1.0.0")
	other, _ := imageref.Parse(strings.TrimPrefix(srv.URL, "http://") + "/app:1.3.0")
	anon := credentials.Credential{Source: credentials.SourceAnonymous}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			r := ref
			if i%2 == 1 {
				r = other
			}
			if _, err := c.ListTags(context.Background(), r, anon, TagsOptions{PageSize: 10}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if *lists != 3 {
		t.Errorf("%d tags list requests for one repository, want 3 (one list of 3 pages)", *lists)
	}
}

func TestListTagsFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`))
	}))
	defer srv.Close()
	_, err := listOf(t, srv, TagsOptions{})
	if f := AsFailure(err); err == nil || f.Reason != "RepositoryNotFound" || f.HTTPStatus != http.StatusNotFound {
		t.Errorf("err = %v", err)
	}
}

func TestNextPage(t *testing.T) {
	base, _ := url.Parse("https://r.example/v2/app/tags/list?n=10")
	for _, tc := range []struct {
		links []string
		want  string
	}{
		{[]string{`</v2/app/tags/list?last=b&n=10>; rel="next"`}, "https://r.example/v2/app/tags/list?last=b&n=10"},
		{[]string{`<https://r.example/v2/app/tags/list?last=c>; rel=next`}, "https://r.example/v2/app/tags/list?last=c"},
		{[]string{`</prev>; rel="prev", </v2/next>; rel="next"`}, "https://r.example/v2/next"},
		{[]string{`<https://elsewhere.example/v2/next>; rel="next"`}, ""}, // credentials stay on the registry's host
		{[]string{`<http://r.example/v2/next>; rel="next"`}, ""},          // nor go down to http
		{[]string{`</v2/next>; rel="last"`}, ""},
		{nil, ""},
	} {
		got := nextPage(base, tc.links)
		if (got == nil && tc.want != "") || (got != nil && got.String() != tc.want) {
			t.Errorf("nextPage(%q) = %v, want %q", tc.links, got, tc.want)
		}
	}
}

// Google's registries ignore n and send every tag at once, without Link:
// one page is the whole list, and nothing more is asked.
func TestListTagsIgnoredN(t *testing.T) {
	var mu sync.Mutex
	lists := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		mu.Lock()
		lists++
		mu.Unlock()
		var tags []string
		for i := range 25 {
			tags = append(tags, "1."+strconv.Itoa(i))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"name": "app", "tags": tags, "manifest": map[string]any{}})
	}))
	defer srv.Close()
	l, err := listOf(t, srv, TagsOptions{PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Tags) != 25 || l.Pages != 1 || lists != 1 {
		t.Errorf("%d tags in %d pages (%d requests), want 25 in 1", len(l.Tags), l.Pages, lists)
	}
}
