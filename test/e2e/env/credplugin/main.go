// Command credplugin is the e2e node's kubelet credential provider: an exec
// plugin (credentialprovider.kubelet.k8s.io/v1) that answers every request
// with the username and password in its environment (REGCHECK_PLUGIN_USER,
// REGCHECK_PLUGIN_PASSWORD, set by the CredentialProviderConfig) for the
// requested image's host. The kubelet sends the image without its tag.
// Hand-written because the kubelet's own API types live in k8s.io/kubelet,
// a module regcheck does not otherwise need, for two small JSON objects.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

func main() {
	var req struct {
		Kind, APIVersion, Image string
	}
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "credplugin: reading the request: %v\n", err)
		os.Exit(1)
	}
	host, _, _ := strings.Cut(req.Image, "/")
	resp := map[string]any{
		"kind":         "CredentialProviderResponse",
		"apiVersion":   req.APIVersion,
		"cacheKeyType": "Registry",
		"auth": map[string]any{host: map[string]string{
			"username": os.Getenv("REGCHECK_PLUGIN_USER"),
			"password": os.Getenv("REGCHECK_PLUGIN_PASSWORD"),
		}},
	}
	if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
		os.Exit(1)
	}
}
