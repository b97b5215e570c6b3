package cmd

import (
	"context"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/printers"
)

// registerCompletions completes --namespace and --context from the user's
// kubeconfig and cluster, as kubectl does; cobra's own `completion`
// command turns them into bash, zsh, fish and powershell scripts.
func registerCompletions(root *cobra.Command, common *CommonOptions) {
	_ = root.RegisterFlagCompletionFunc("context", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		cfg, err := common.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names := make([]string, 0, len(cfg.Contexts))
		for name := range cfg.Contexts {
			names = append(names, name)
		}
		sort.Strings(names)
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.RegisterFlagCompletionFunc("namespace", func(c *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		client, err := common.kubeClient()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		list, err := client.CoreV1().Namespaces().List(c.Context(), metav1.ListOptions{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, ns := range list.Items {
			if strings.HasPrefix(ns.Name, prefix) {
				names = append(names, ns.Name)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return printers.Formats, cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.RegisterFlagCompletionFunc("color", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp
	})
}

// workloadTypes are offered before a TYPE/NAME argument has its slash.
var workloadTypes = []string{"deploy/", "sts/", "ds/", "job/", "cronjob/", "rc/", "pod/"}

// completeWorkloads completes TYPE/NAME arguments as kubectl does: the
// types first, then the names of that type in the namespace.
func completeWorkloads(common *CommonOptions) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(c *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		typ, prefix, ok := strings.Cut(toComplete, "/")
		if !ok {
			return workloadTypes, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
		}
		target, err := kube.ParseTarget(typ)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		client, err := common.kubeClient()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ns, _, err := common.ConfigFlags.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names, err := workloadNames(c.Context(), client, ns, target.Kind)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				out = append(out, typ+"/"+n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// workloadNames lists the names of one kind of workload in ns.
func workloadNames(ctx context.Context, client kubernetes.Interface, ns, kind string) ([]string, error) {
	opts := metav1.ListOptions{}
	var names []string
	add := func(meta metav1.ObjectMeta) { names = append(names, meta.Name) }
	switch kind {
	case kube.KindDeployment:
		l, err := client.AppsV1().Deployments(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			add(o.ObjectMeta)
		}
	case kube.KindStatefulSet:
		l, err := client.AppsV1().StatefulSets(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			add(o.ObjectMeta)
		}
	case kube.KindDaemonSet:
		l, err := client.AppsV1().DaemonSets(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			add(o.ObjectMeta)
		}
	case kube.KindJob:
		l, err := client.BatchV1().Jobs(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			add(o.ObjectMeta)
		}
	case kube.KindCronJob:
		l, err := client.BatchV1().CronJobs(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			add(o.ObjectMeta)
		}
	case kube.KindReplicationController:
		l, err := client.CoreV1().ReplicationControllers(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			add(o.ObjectMeta)
		}
	case kube.KindPod:
		l, err := client.CoreV1().Pods(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			add(o.ObjectMeta)
		}
	}
	sort.Strings(names)
	return names, nil
}
