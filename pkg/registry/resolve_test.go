package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

func digestOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:])
}

// An open registry (distribution without auth) serving a multi-arch index.
func indexRegistry(t *testing.T) (*httptest.Server, string, *int, *sync.Mutex) {
	cfgAmd, cfgArm := "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64)
	man := func(cfg string) string {
		return fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":1},"layers":[]}`, cfg)
	}
	amd, arm := man(cfgAmd), man(cfgArm)
	att := man("sha256:" + strings.Repeat("3", 64))
	idx := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"platform":{"os":"linux","architecture":"amd64"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"platform":{"os":"unknown","architecture":"unknown"},"annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]}`,
		digestOf(amd), len(amd), digestOf(arm), len(arm), digestOf(att), len(att))
	blobs := map[string]string{"1.0": idx, digestOf(idx): idx, digestOf(amd): amd, digestOf(arm): arm, digestOf(att): att}
	var mu sync.Mutex
	manifestRequests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			fmt.Fprint(w, "{}")
			return
		}
		_, ref, ok := strings.Cut(r.URL.Path, "/manifests/")
		body, found := blobs[ref]
		if !ok || !found {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`)
			return
		}
		mu.Lock()
		manifestRequests++
		mu.Unlock()
		var probe struct{ MediaType string }
		_ = jsonUnmarshal(body, &probe)
		w.Header().Set("Content-Type", probe.MediaType)
		w.Header().Set("Docker-Content-Digest", digestOf(body))
		if r.Method != http.MethodHead {
			fmt.Fprint(w, body)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, digestOf(idx), &manifestRequests, &mu
}

func TestResolveIndex(t *testing.T) {
	srv, idxDigest, count, mu := indexRegistry(t)
	c, err := NewClient(Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := imageref.Parse(strings.TrimPrefix(srv.URL, "http://") + "/team/app:1.0")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	d, err := c.Head(ctx, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if *count != 1 || d.Digest != idxDigest || d.CredentialSource != "anonymous" {
		t.Fatalf("Head: %d manifest requests, %+v", *count, d)
	}
	mu.Unlock()

	res, err := c.Expand(ctx, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Children) != 2 || res.Children[0].ConfigDigest != "sha256:"+strings.Repeat("1", 64) ||
		res.Children[1].Architecture != "arm64" || res.Children[1].Variant != "v8" {
		t.Fatalf("children: %+v", res.Children)
	}
	mu.Lock()
	before := *count
	mu.Unlock()
	if _, err := c.Resolve(ctx, ref, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if *count-before != 2 { // HEAD + index GET; children's configs come from the cache
		t.Fatalf("second resolve made %d manifest requests", *count-before)
	}
}

func TestResolveFailuresAreFailures(t *testing.T) {
	srv, _, _, _ := indexRegistry(t)
	c, _ := NewClient(Options{PlainHTTP: true})
	host := strings.TrimPrefix(srv.URL, "http://")
	creds := []credentials.Credential{{Source: "secret/a/b", Username: "u", Password: "p"}, {Source: "secret/a/c", Username: "u", Password: "q"}}
	for ref, want := range map[string]report.Reason{
		host + "/team/app:nope": report.ReasonTagNotFound,
		"127.0.0.1:1/a:1":       report.ReasonUnreachable,
	} {
		r, err := imageref.Parse(ref)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Resolve(context.Background(), r, creds)
		var f *Failure
		if !errors.As(err, &f) || f.Reason != want {
			t.Errorf("%s: %v, want %s", ref, err, want)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// One pull secret may hold two entries that match an image (the kubelet
// tries both, most specific first), so two credentials can share a
// source. Expand must use the one Head succeeded with, not the first of
// that source: here the first has an old password.
func TestExpandUsesTheCredentialHeadUsed(t *testing.T) {
	man := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + strings.Repeat("4", 64) + `","size":1},"layers":[]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ci" || p != "new" {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`)
			return
		}
		if r.URL.Path == "/v2/" {
			fmt.Fprint(w, "{}")
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", digestOf(man))
		if r.Method != http.MethodHead {
			fmt.Fprint(w, man)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := imageref.Parse(strings.TrimPrefix(srv.URL, "http://") + "/team/app:1.0")
	if err != nil {
		t.Fatal(err)
	}
	creds := []credentials.Credential{
		{Source: "secret/prod/regcred", Username: "ci", Password: "old"},
		{Source: "secret/prod/regcred", Username: "ci", Password: "new"},
	}
	res, err := c.Resolve(context.Background(), ref, creds)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if res.ConfigDigest != "sha256:"+strings.Repeat("4", 64) || res.CredentialSource != "secret/prod/regcred" {
		t.Fatalf("resolution %+v", res)
	}
	// --newer lists the tags with the same credential, and a result
	// names it: by position, not by its source (both share one).
	if i, ok := res.Used.In(creds); !ok || i != 1 {
		t.Errorf("Resolution.Used names position %d (ok=%v), not the credential the HEAD succeeded with (1)", i, ok)
	}
	// When both are refused, each attempt says which credential met what.
	_, err = c.Head(context.Background(), ref, creds[:1:1])
	if f := AsFailure(err); f == nil || f.Reason != report.ReasonInvalidCredentials {
		t.Fatalf("Head with the old password alone: %v", err)
	}
	_, err = c.Head(context.Background(), ref, []credentials.Credential{creds[0], creds[0]})
	f := AsFailure(err)
	if f == nil || len(f.Attempts) != 2 {
		t.Fatalf("Head with the old password twice: %v", err)
	}
	for k, a := range f.Attempts {
		if i, ok := a.Credential.In(creds); !ok || i != k || a.Reason != report.ReasonInvalidCredentials {
			t.Errorf("attempt %d: position %d (ok=%v), %s", k, i, ok, a.Reason)
		}
	}
	// The zero value names no credential, whatever the list.
	if _, ok := (Resolution{}).Used.In(creds); ok {
		t.Error("a zero Resolution names a credential")
	}
}
