package scan

import (
	"fmt"
	"strings"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/report"
)

// undecodablePull is the registry.pull result of a container whose pods
// name a pull secret the kubelet cannot decode: fail, MalformedCredentials,
// whatever the registry would answer. The kubelet returns the decoding
// error before it pulls anything (k8s.io/kubernetes v1.37
// pkg/kubelet/images/image_manager.go, makeLookupPullCredentialsFunc), so
// it neither pulls anonymously nor asks its node credentials; the
// container waits with that error as its reason, which evidence quotes
// when a pod shows it. (A node that already holds the image may start it
// under IfNotPresent without a lookup: before 1.35 always, after only when
// its KubeletEnsureSecretPulledImages policy asks no credential check;
// not modelled, the result is about the pull.)
func undecodablePull(base report.Result, w *kube.Workload, c kube.Container, secrets []credentials.Problem) report.Result {
	r := base
	r.Check, r.Status, r.Reason = report.CheckRegistryPull, report.StatusFail, report.ReasonMalformedCredentials
	names := make([]string, 0, len(secrets))
	for _, p := range secrets {
		names = append(names, p.Source)
	}
	r.CredentialSource = strings.Join(names, ",")
	r.Message = fmt.Sprintf("the kubelet cannot decode pull secret %s, so it fails the pull of %s for the pods of %s before asking %s (no anonymous pull, no node credentials)",
		strings.Join(names, ", "), c.Image, w.ID(), base.Registry)
	r.Remedy = secrets[0].Remedy
	r.Evidence = report.Evidence{"undecodableSecrets": names}
	for i := range w.Pods {
		st, ok := w.Pods[i].Status(c.Name, c.Init)
		if !ok || st.Waiting == "" || st.Waiting == "ContainerCreating" || st.Waiting == "PodInitializing" {
			continue
		}
		// What the kubelet wrote (the decoding error; it quotes no secret).
		r.Evidence["kubeletReason"] = st.Waiting
		if st.WaitingMessage != "" {
			r.Evidence["kubeletMessage"] = st.WaitingMessage
		}
		break
	}
	return r
}
