package nodecreds

import (
	"reflect"
	"strings"
	"testing"
)

func TestCloudOf(t *testing.T) {
	for id, want := range map[string]Cloud{
		"aws:///us-east-1a/i-0123456789abcdef0":           CloudAWS,
		"aws://us-east-1a/i-0123456789abcdef0":            CloudAWS,
		"gce://my-project/europe-west1-b/gke-pool-1-abcd": CloudGCE,
		"azure:///subscriptions/s/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-1/virtualMachines/0": CloudAzure,
		"AWS:///us-east-1a/i-1":                 CloudAWS,
		"kind://docker/kind/kind-control-plane": "",
		"openstack:///a1b2":                     "",
		"":                                      "",
		"aws":                                   "",
	} {
		if got := CloudOf(id); got != want {
			t.Errorf("CloudOf(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestFromNodes(t *testing.T) {
	if s := FromNodes([]Node{{Name: "kind-control-plane", ProviderID: "kind://docker/kind/kind-control-plane"}, {Name: "bare"}}); s != nil {
		t.Errorf("no cloud: got %+v", s.Providers())
	}
	s := FromNodes([]Node{
		{Name: "ip-10-0-0-2", ProviderID: "aws:///us-east-1a/i-2"},
		{Name: "ip-10-0-0-1", ProviderID: "aws:///us-east-1a/i-1"},
		{Name: "gke-a", ProviderID: "gce://p/z/gke-a"},
		{Name: "onprem"},
	})
	var names []string
	for _, p := range s.Providers() {
		names = append(names, p.Name+"@"+strings.Join(p.Nodes, ","))
	}
	want := []string{"ecr-credential-provider@ip-10-0-0-1,ip-10-0-0-2", "auth-provider-gcp@gke-a"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("providers %v, want %v", names, want)
	}

	ecr := "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0"
	for _, r := range []struct {
		name           string
		image          string
		podNodes       []string
		provider       string
		nodes, without []string
	}{
		{"no pods yet: any node counts", ecr, nil, "ecr-credential-provider", nil, nil},
		{"pods on aws nodes", ecr, []string{"ip-10-0-0-1"}, "ecr-credential-provider", []string{"ip-10-0-0-1"}, nil},
		{"pods on aws and other nodes", ecr, []string{"ip-10-0-0-1", "onprem", "gke-a"}, "ecr-credential-provider", []string{"ip-10-0-0-1"}, []string{"onprem", "gke-a"}},
		{"pods only off aws", ecr, []string{"onprem", "gke-a"}, "", nil, nil},
		{"gcr on gke", "gcr.io/p/app", []string{"gke-a"}, "auth-provider-gcp", []string{"gke-a"}, nil},
		{"acr: no azure node", "myacr.azurecr.io/app", nil, "", nil, nil},
		{"not a cloud registry", "ghcr.io/o/r:1", nil, "", nil, nil},
	} {
		m, ok := s.For(r.image, r.podNodes)
		if ok != (r.provider != "") || m.Provider.Name != r.provider || !reflect.DeepEqual(m.Nodes, r.nodes) || !reflect.DeepEqual(m.Without, r.without) {
			t.Errorf("%s: For = %+v, %t", r.name, m, ok)
		}
	}
	m, _ := s.For(ecr, []string{"ip-10-0-0-1", "onprem"})
	if msg := m.Message(); !strings.Contains(msg, "on node ip-10-0-0-1; pods on node onprem (not on aws) get no node credentials") {
		t.Errorf("message %q", msg)
	}
}

// A config file's providers serve every node, first match in order.
func TestFromConfigOrder(t *testing.T) {
	s := FromConfig([]Provider{
		{Name: "team", MatchImages: []string{"127.0.0.1:5000/team"}},
		{Name: "all", MatchImages: []string{"127.0.0.1:5000"}},
	})
	for image, want := range map[string]string{
		"127.0.0.1:5000/team/app:1": "team",
		"127.0.0.1:5000/other/app":  "all",
		"127.0.0.1:5001/team/app":   "",
		"127.0.0.1/team/app":        "",
	} {
		m, ok := s.For(image, []string{"n1"})
		if ok != (want != "") || m.Provider.Name != want {
			t.Errorf("%s: %q, want %q", image, m.Provider.Name, want)
		}
	}
	if m, _ := s.For("127.0.0.1:5000/team/app", nil); m.Provider.Source() != "credential-provider/team" {
		t.Errorf("source %q", m.Provider.Source())
	}
}

func TestRemedies(t *testing.T) {
	for _, r := range []struct {
		host        string
		node, local string
	}{
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer", "aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
		{"europe-west1-docker.pkg.dev", "roles/artifactregistry.reader", "gcloud auth configure-docker europe-west1-docker.pkg.dev"},
		{"myacr.azurecr.io", "AcrPull on myacr.azurecr.io", "az acr login -n myacr"},
		{"127.0.0.1:5000", "credential provider local", "docker login 127.0.0.1:5000"},
	} {
		if got := NodeRemedy(Provider{Name: "local"}, r.host, "team/app"); !strings.Contains(got, r.node) {
			t.Errorf("NodeRemedy(%s) = %q, want %q in it", r.host, got, r.node)
		}
		if got := LocalLogin(r.host); !strings.HasPrefix(got, r.local) {
			t.Errorf("LocalLogin(%s) = %q, want %q first", r.host, got, r.local)
		}
	}
	if CloudOfHost("public.ecr.aws") != "" {
		t.Error("public.ecr.aws is ECR Public, not ECR private")
	}
}

// TestAssumed: nodes that could not be read leave the cloud unknown; every
// cloud's registries then match its built-in provider, on any node, and
// the message and remedy say it is assumed and how to confirm it.
func TestAssumed(t *testing.T) {
	s := Assumed()
	for image, want := range map[string]string{
		"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0": "ecr-credential-provider",
		"europe-west1-docker.pkg.dev/p/r/app:1":                     "auth-provider-gcp",
		"gcr.io/p/app:1":                                            "auth-provider-gcp",
		"myacr.azurecr.io/app:1":                                    "acr-credential-provider",
		"docker.io/library/nginx:1.27":                              "",
		"public.ecr.aws/nginx/nginx:1":                              "",
		"127.0.0.1:5000/private/app:1":                              "",
	} {
		m, ok := s.For(image, []string{"node-a"})
		if got := map[bool]string{true: m.Provider.Name}[ok]; got != want {
			t.Errorf("For(%s) = %q, want %q", image, got, want)
			continue
		}
		if !ok {
			continue
		}
		if !m.Provider.Assumed || len(m.Without) > 0 {
			t.Errorf("For(%s) = %+v, want an assumed provider on every node", image, m)
		}
		if msg := m.Message(); !strings.Contains(msg, "most likely serves") || !strings.Contains(msg, "could not be read") {
			t.Errorf("Message() = %q", msg)
		}
		if r := NodeRemedy(m.Provider, "host", "repo"); !strings.Contains(r, "list nodes") || !strings.Contains(r, "--image-credential-provider-config") {
			t.Errorf("NodeRemedy = %q, want how to confirm it", r)
		}
	}
	// A provider the nodes name is not assumed: its remedy has no such line.
	p, _ := BuiltIn(CloudAWS)
	if r := NodeRemedy(p, "h", "r"); strings.Contains(r, "assumed") {
		t.Errorf("NodeRemedy(built-in) = %q", r)
	}
}
