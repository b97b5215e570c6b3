package credentials

import "testing"

func TestNormalizeHost(t *testing.T) {
	tests := []struct{ key, want string }{
		{"https://index.docker.io/v1/", "docker.io"},
		{"index.docker.io", "docker.io"},
		{"registry-1.docker.io", "docker.io"},
		{"docker.io", "docker.io"},
		{"https://registry-1.docker.io/v2/", "docker.io"},
		{"https://host:5000/v2/", "host:5000"},
		{"http://host:5000", "host:5000"},
		{"host:5000", "host:5000"},
		{"Registry.Example.COM/team/app", "registry.example.com"},
		{" ghcr.io ", "ghcr.io"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeHost(tt.key); got != tt.want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestServerAddress(t *testing.T) {
	for host, want := range map[string]string{
		"docker.io":            dockerHubServerAddress,
		"index.docker.io":      dockerHubServerAddress,
		"registry-1.docker.io": dockerHubServerAddress,
		"ghcr.io":              "ghcr.io",
		"host:5000":            "host:5000",
	} {
		if got := serverAddress(host); got != want {
			t.Errorf("serverAddress(%q) = %q, want %q", host, got, want)
		}
	}
}
