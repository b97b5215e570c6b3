package nodecreds

import (
	"fmt"
	"strings"
)

// CloudOfHost says whose registry host is, by the built-in patterns: ECR
// is aws, Artifact Registry and GCR gce, ACR azure; "" for any other
// (public.ecr.aws, ECR Public, is not ECR private and has no node
// credentials: anonymous pulls).
func CloudOfHost(host string) Cloud {
	for _, c := range []Cloud{CloudAWS, CloudGCE, CloudAzure} {
		if _, ok := builtIn[c].Matches(host); ok {
			return c
		}
	}
	return ""
}

// NodeRemedy says what the node's identity needs so that p's pulls from
// host work; for an assumed provider, also how to confirm the nodes run it.
func NodeRemedy(p Provider, host, repository string) string {
	r := nodeRemedy(p, host, repository)
	if p.Assumed {
		r += "; that the nodes run " + p.Name + " is assumed from the registry, as the nodes could not be read: to confirm it, let regcheck list nodes (kubectl auth can-i list nodes) or give --image-credential-provider-config with the kubelets' config"
	}
	return r
}

func nodeRemedy(p Provider, host, repository string) string {
	cloud := p.Cloud
	if cloud == "" {
		cloud = CloudOfHost(host)
	}
	switch cloud {
	case CloudAWS:
		return fmt.Sprintf("the nodes' IAM role (instance profile) needs ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on %s (the managed policy AmazonEC2ContainerRegistryReadOnly has them); regcheck cannot act as the node, so it does not check them", repository)
	case CloudGCE:
		return fmt.Sprintf("the nodes' service account needs roles/artifactregistry.reader on the repository's project (roles/storage.objectViewer for gcr.io buckets) and the node pool the cloud-platform or devstorage.read_only scope; regcheck cannot act as the node, so it does not check %s/%s", host, repository)
	case CloudAzure:
		return fmt.Sprintf("the kubelet identity needs AcrPull on %s (az aks update -n CLUSTER -g GROUP --attach-acr %s); regcheck cannot act as the node, so it does not check it", host, acrName(host))
	}
	return fmt.Sprintf("the credential provider %s on the nodes must serve %s/%s (its executable in the kubelet's --image-credential-provider-bin-dir, and whatever identity it uses allowed to pull); regcheck cannot act as the node, so it does not check it", p.Name, host, repository)
}

// LocalLogin is the one line that gives this machine credentials for host,
// so regcheck can read its digests as the user.
func LocalLogin(host string) string {
	switch CloudOfHost(host) {
	case CloudAWS:
		region := ecrRegion(host)
		return fmt.Sprintf("aws ecr get-login-password --region %s | docker login --username AWS --password-stdin %s (or the credential helper: \"credHelpers\": {%q: \"ecr-login\"} in ~/.docker/config.json)", region, host, host)
	case CloudGCE:
		return fmt.Sprintf("gcloud auth configure-docker %s", host)
	case CloudAzure:
		return fmt.Sprintf("az acr login -n %s", acrName(host))
	}
	return fmt.Sprintf("docker login %s (or helm registry login %s)", host, host)
}

// ecrRegion is REGION of ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn].
func ecrRegion(host string) string {
	labels := strings.Split(host, ".")
	if len(labels) >= 4 {
		return labels[3]
	}
	return "REGION"
}

// acrName is NAME of NAME.azurecr.io.
func acrName(host string) string {
	name, _, _ := strings.Cut(host, ".")
	return name
}
