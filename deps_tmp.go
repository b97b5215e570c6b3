//go:build tools

package main

import (
	_ "github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/reference"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/spf13/cobra"
	_ "helm.sh/helm/v3/pkg/action"
	_ "k8s.io/cli-runtime/pkg/genericclioptions"
	_ "k8s.io/client-go/kubernetes"
	_ "oras.land/oras-go/v2/registry/remote/auth"
)

func main() {}
