package kube

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/pager"
)

// pageSize bounds every LIST so large clusters are read in chunks.
const pageSize = 500

func newPager(list func(context.Context, metav1.ListOptions) (runtime.Object, error)) *pager.ListPager {
	p := pager.New(list)
	p.PageSize = pageSize
	return p
}
