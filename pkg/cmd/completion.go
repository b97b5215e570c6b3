package cmd

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// workloadTypes are offered before a TYPE/NAME argument has its slash:
// each kind's short name, from kube's table of kinds.
var workloadTypes = func() []string {
	out := make([]string, 0, len(kube.WorkloadKinds))
	for _, k := range kube.WorkloadKinds {
		out = append(out, k.Aliases[0]+"/")
	}
	return out
}()

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
		kind, _ := kube.LookupKind(target.Kind)
		names, err := kind.Names(c.Context(), client, ns)
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
