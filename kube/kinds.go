package kube

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/network-policy-api/apis/v1alpha1"
	"sigs.k8s.io/network-policy-api/apis/v1alpha2"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// resource is one kind bulkhead reads from a cluster.
type resource struct {
	gvk        schema.GroupVersionKind
	plural     string
	namespaced bool
	// rank orders kinds: objects are added to the Builder kind by kind in
	// rank order, then by namespace and name, so that problems, skipped
	// objects and policies come in the same order from Read and from a
	// State.
	rank int
	// Typed kinds have list and informer; the network-policy-api kinds
	// are read through the dynamic client and converted with newObj.
	list func(ctx context.Context, cs kubernetes.Interface, opts metav1.ListOptions) (runtime.Object, error)
	// fieldSelector, when set, narrows the list (the posture ConfigMaps,
	// read by name).
	fieldSelector string
	informer      func(f informers.SharedInformerFactory) cache.SharedIndexInformer
	newObj        func() runtime.Object
}

func (r *resource) gvr() schema.GroupVersionResource {
	return r.gvk.GroupVersion().WithResource(r.plural)
}

// name is the resource as RBAC rules and kubectl name it:
// "pods", "deployments.apps", "clusternetworkpolicies.policy.networking.k8s.io".
func (r *resource) name() string {
	if r.gvk.Group == "" {
		return r.plural
	}
	return r.plural + "." + r.gvk.Group
}

func (r *resource) typed() bool { return r.list != nil }

const policyGroup = "policy.networking.k8s.io"

// coreResources are the built-in kinds, in rank order.
var coreResources = []*resource{
	{gvk: corev1.SchemeGroupVersion.WithKind("Namespace"), plural: "namespaces",
		list: func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Namespaces().List(ctx, o)
		},
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Namespaces().Informer()
		}},
	{gvk: corev1.SchemeGroupVersion.WithKind("Node"), plural: "nodes",
		list: func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Nodes().List(ctx, o)
		},
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Nodes().Informer()
		}},
	{gvk: corev1.SchemeGroupVersion.WithKind("Pod"), plural: "pods", namespaced: true,
		list: func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Pods("").List(ctx, o)
		},
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Pods().Informer()
		}},
	{gvk: corev1.SchemeGroupVersion.WithKind("ReplicationController"), plural: "replicationcontrollers", namespaced: true,
		list: func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().ReplicationControllers("").List(ctx, o)
		},
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().ReplicationControllers().Informer()
		}},
	{gvk: appsv1.SchemeGroupVersion.WithKind("Deployment"), plural: "deployments", namespaced: true,
		list: func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AppsV1().Deployments("").List(ctx, o)
		},
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Apps().V1().Deployments().Informer()
		}},
	{gvk: appsv1.SchemeGroupVersion.WithKind("StatefulSet"), plural: "statefulsets", namespaced: true,
		list: func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AppsV1().StatefulSets("").List(ctx, o)
		},
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Apps().V1().StatefulSets().Informer()
		}},
	{gvk: appsv1.SchemeGroupVersion.WithKind("DaemonSet"), plural: "daemonsets", namespaced: true,
		list: func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AppsV1().DaemonSets("").List(ctx, o)
		},
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Apps().V1().DaemonSets().Informer()
		}},
	{gvk: appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), plural: "replicasets", namespaced: true,
		list: func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AppsV1().ReplicaSets("").List(ctx, o)
		},
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Apps().V1().ReplicaSets().Informer()
		}},
	{gvk: batchv1.SchemeGroupVersion.WithKind("Job"), plural: "jobs", namespaced: true,
		list: func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.BatchV1().Jobs("").List(ctx, o)
		},
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Batch().V1().Jobs().Informer()
		}},
	{gvk: batchv1.SchemeGroupVersion.WithKind("CronJob"), plural: "cronjobs", namespaced: true,
		list: func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.BatchV1().CronJobs("").List(ctx, o)
		},
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Batch().V1().CronJobs().Informer()
		}},
	{gvk: networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"), plural: "networkpolicies", namespaced: true,
		list: func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.NetworkingV1().NetworkPolicies("").List(ctx, o)
		},
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Networking().V1().NetworkPolicies().Informer()
		}},
}

// policyChoice is one network-policy-api kind and the versions bulkhead
// reads it in, preferred first.
type policyChoice struct {
	kind     string
	versions []*resource
}

// policyChoices are the admin-tier kinds, in rank order after the core
// kinds. ClusterNetworkPolicy is one stored object served in two versions:
// bulkhead reads v1beta1 when the server serves it, else v1alpha2.
var policyChoices = []policyChoice{
	{"AdminNetworkPolicy", []*resource{
		{gvk: v1alpha1.SchemeGroupVersion.WithKind("AdminNetworkPolicy"), plural: "adminnetworkpolicies",
			newObj: func() runtime.Object { return &v1alpha1.AdminNetworkPolicy{} }},
	}},
	{"BaselineAdminNetworkPolicy", []*resource{
		{gvk: v1alpha1.SchemeGroupVersion.WithKind("BaselineAdminNetworkPolicy"), plural: "baselineadminnetworkpolicies",
			newObj: func() runtime.Object { return &v1alpha1.BaselineAdminNetworkPolicy{} }},
	}},
	{"ClusterNetworkPolicy", []*resource{
		{gvk: v1beta1.SchemeGroupVersion.WithKind("ClusterNetworkPolicy"), plural: "clusternetworkpolicies",
			newObj: func() runtime.Object { return &v1beta1.ClusterNetworkPolicy{} }},
		{gvk: v1alpha2.SchemeGroupVersion.WithKind("ClusterNetworkPolicy"), plural: "clusternetworkpolicies",
			newObj: func() runtime.Object { return &v1alpha2.ClusterNetworkPolicy{} }},
	}},
}

// ranks maps a kind to its rank.
var ranks = func() map[string]int {
	m := map[string]int{}
	for i, r := range coreResources {
		r.rank = i
		m[r.gvk.Kind] = i
	}
	for i, c := range policyChoices {
		for _, r := range c.versions {
			r.rank = len(coreResources) + i
		}
		m[c.kind] = len(coreResources) + i
	}
	return m
}()

// rankOf returns the rank of kind; unknown kinds sort last.
func rankOf(kind string) int {
	if r, ok := ranks[kind]; ok {
		return r
	}
	return len(ranks)
}
