package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// missingRegistry answers a HEAD of any manifest with 404 and a GET with
// getCode (MANIFEST_UNKNOWN, NAME_UNKNOWN) or, when getCode is empty, the
// manifest; the tags list with the repository's tags, or NAME_UNKNOWN
// when repoMissing. Each of the GET and the tags list waits, up to a
// bound that only a sequential client reaches, until the other has
// arrived: they must be in flight together. It counts requests by
// method and path kind.
func missingRegistry(t *testing.T, getCode string, repoMissing bool) (*httptest.Server, func() map[string]int, *sync.WaitGroup) {
	var mu sync.Mutex
	counts := map[string]int{}
	var both sync.WaitGroup // the GET and the tags list, once each
	both.Add(2)
	arrived := make(chan struct{})
	go func() { both.Wait(); close(arrived) }()
	var once sync.Map
	meet := func(kind string) bool {
		if _, dup := once.LoadOrStore(kind, true); !dup {
			both.Done()
		}
		select {
		case <-arrived:
			return true
		case <-time.After(20 * time.Second):
			return false
		}
	}
	man := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + strings.Repeat("1", 64) + `","size":1},"layers":[]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := r.Method + " " + r.URL.Path[strings.LastIndex(r.URL.Path[:len(r.URL.Path)-1], "/")+1:]
		switch {
		case r.URL.Path == "/v2/":
			return
		case strings.Contains(r.URL.Path, "/manifests/"):
			kind = r.Method + " manifest"
		case strings.HasSuffix(r.URL.Path, "/tags/list"):
			kind = "GET tags"
		}
		mu.Lock()
		counts[kind]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch kind {
		case "HEAD manifest":
			w.WriteHeader(http.StatusNotFound)
		case "GET manifest":
			if !meet(kind) {
				t.Errorf("the GET waited for a tags list that never came while it was in flight")
			}
			if getCode == "" {
				w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
				w.Header().Set("Docker-Content-Digest", digestOf(man))
				fmt.Fprint(w, man)
				return
			}
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"errors":[{"code":%q,"message":"unknown"}]}`, getCode)
		case "GET tags":
			if !meet(kind) {
				t.Errorf("the tags list waited for a GET that never came while it was in flight")
			}
			if repoMissing {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`)
				return
			}
			fmt.Fprint(w, `{"name":"app","tags":["1.0","1.1"]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range counts {
			out[k] = v
		}
		return out
	}, &both
}

// A HEAD answered 404 sends the GET that reads the error code and the tags
// list that tells a missing tag from a missing repository at once (two
// round trips, not three), with one request of each and the same verdict
// as one after the other.
func TestMissingTagGetAndTagsListTogether(t *testing.T) {
	for _, tc := range []struct {
		name        string
		repoMissing bool
		want        report.Reason
		wantTags    []string
	}{
		{"missing tag", false, report.ReasonTagNotFound, []string{"1.0", "1.1"}},
		{"missing repository", true, report.ReasonRepositoryNotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, counts, _ := missingRegistry(t, "MANIFEST_UNKNOWN", tc.repoMissing)
			c, err := NewClient(Options{PlainHTTP: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.CloseIdleConnections)
			ref, err := imageref.Parse(strings.TrimPrefix(srv.URL, "http://") + "/team/app:2.0")
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Head(context.Background(), ref, nil)
			f := AsFailure(err)
			if f == nil || f.Reason != tc.want || strings.Join(f.Tags, ",") != strings.Join(tc.wantTags, ",") {
				t.Fatalf("Head: %+v, want %s with tags %v", f, tc.want, tc.wantTags)
			}
			if f.Evidence["tagsListStatus"] == nil {
				t.Errorf("no tagsListStatus in evidence: %v", f.Evidence)
			}
			want := map[string]int{"HEAD manifest": 1, "GET manifest": 1, "GET tags": 1}
			if got := counts(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("requests %v, want %v", got, want)
			}
		})
	}
}

// When the GET after a 404 HEAD finds the manifest after all, the tags
// list asked with it is not waited for beyond the call, and the answer is
// the manifest's.
func TestMissingHeadGetFinds(t *testing.T) {
	srv, _, _ := missingRegistry(t, "", false)
	c, err := NewClient(Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	ref, err := imageref.Parse(strings.TrimPrefix(srv.URL, "http://") + "/team/app:2.0")
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Head(context.Background(), ref, nil)
	if err != nil || !strings.HasPrefix(d.Digest, "sha256:") {
		t.Fatalf("Head: %+v, %v", d, err)
	}
}
