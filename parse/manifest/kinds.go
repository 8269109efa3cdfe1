package manifest

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/network-policy-api/apis/v1alpha1"
	"sigs.k8s.io/network-policy-api/apis/v1alpha2"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// kindInfo describes a kind bulkhead models.
type kindInfo struct {
	gvk schema.GroupVersionKind
	new func() runtime.Object
	// policy kinds decode strictly: an unknown field is an error, since a
	// misspelled selector would silently select everything.
	policy     bool
	namespaced bool
	workload   bool
}

const policyGroup = "policy.networking.k8s.io"

// kinds lists the modelled kinds by group/version/kind.
var kinds = func() map[schema.GroupVersionKind]*kindInfo {
	m := map[schema.GroupVersionKind]*kindInfo{}
	add := func(group, version, kind string, new func() runtime.Object, policy, namespaced, workload bool) {
		gvk := schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
		m[gvk] = &kindInfo{gvk: gvk, new: new, policy: policy, namespaced: namespaced, workload: workload}
	}
	add("", "v1", "Namespace", func() runtime.Object { return &corev1.Namespace{} }, false, false, false)
	add("", "v1", "Node", func() runtime.Object { return &corev1.Node{} }, false, false, false)
	add("", "v1", "Pod", func() runtime.Object { return &corev1.Pod{} }, false, true, false)
	add("", "v1", "ReplicationController", func() runtime.Object { return &corev1.ReplicationController{} }, false, true, true)
	add("apps", "v1", "Deployment", func() runtime.Object { return &appsv1.Deployment{} }, false, true, true)
	add("apps", "v1", "StatefulSet", func() runtime.Object { return &appsv1.StatefulSet{} }, false, true, true)
	add("apps", "v1", "DaemonSet", func() runtime.Object { return &appsv1.DaemonSet{} }, false, true, true)
	add("apps", "v1", "ReplicaSet", func() runtime.Object { return &appsv1.ReplicaSet{} }, false, true, true)
	add("batch", "v1", "Job", func() runtime.Object { return &batchv1.Job{} }, false, true, true)
	add("batch", "v1", "CronJob", func() runtime.Object { return &batchv1.CronJob{} }, false, true, true)
	add("networking.k8s.io", "v1", "NetworkPolicy", func() runtime.Object { return &networkingv1.NetworkPolicy{} }, true, true, false)
	add(policyGroup, "v1alpha1", "AdminNetworkPolicy", func() runtime.Object { return &v1alpha1.AdminNetworkPolicy{} }, true, false, false)
	add(policyGroup, "v1alpha1", "BaselineAdminNetworkPolicy", func() runtime.Object { return &v1alpha1.BaselineAdminNetworkPolicy{} }, true, false, false)
	add(policyGroup, "v1alpha2", "ClusterNetworkPolicy", func() runtime.Object { return &v1alpha2.ClusterNetworkPolicy{} }, true, false, false)
	add(policyGroup, "v1beta1", "ClusterNetworkPolicy", func() runtime.Object { return &v1beta1.ClusterNetworkPolicy{} }, true, false, false)
	return m
}()

// kindOf returns the kind information of a typed object, or nil for
// types bulkhead does not model.
func kindOf(obj runtime.Object) *kindInfo {
	var gvk schema.GroupVersionKind
	switch obj.(type) {
	case *corev1.Namespace:
		gvk = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	case *corev1.Node:
		gvk = schema.GroupVersionKind{Version: "v1", Kind: "Node"}
	case *corev1.Pod:
		gvk = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	case *corev1.ReplicationController:
		gvk = schema.GroupVersionKind{Version: "v1", Kind: "ReplicationController"}
	case *appsv1.Deployment:
		gvk = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	case *appsv1.StatefulSet:
		gvk = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}
	case *appsv1.DaemonSet:
		gvk = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}
	case *appsv1.ReplicaSet:
		gvk = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}
	case *batchv1.Job:
		gvk = schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}
	case *batchv1.CronJob:
		gvk = schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}
	case *networkingv1.NetworkPolicy:
		gvk = schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	case *v1alpha1.AdminNetworkPolicy:
		gvk = schema.GroupVersionKind{Group: policyGroup, Version: "v1alpha1", Kind: "AdminNetworkPolicy"}
	case *v1alpha1.BaselineAdminNetworkPolicy:
		gvk = schema.GroupVersionKind{Group: policyGroup, Version: "v1alpha1", Kind: "BaselineAdminNetworkPolicy"}
	case *v1alpha2.ClusterNetworkPolicy:
		gvk = schema.GroupVersionKind{Group: policyGroup, Version: "v1alpha2", Kind: "ClusterNetworkPolicy"}
	case *v1beta1.ClusterNetworkPolicy:
		gvk = schema.GroupVersionKind{Group: policyGroup, Version: "v1beta1", Kind: "ClusterNetworkPolicy"}
	default:
		return nil
	}
	return kinds[gvk]
}

// policyGroups are the API groups whose policy kinds bulkhead models in
// some version: a policy of such a group in another version is an error,
// not a skipped object, because ignoring it would change the results.
var policyGroups = map[string]string{
	"networking.k8s.io": "networking.k8s.io/v1",
	"extensions":        "networking.k8s.io/v1",
	policyGroup:         "policy.networking.k8s.io/v1alpha1, v1alpha2 or v1beta1",
}

// unsupportedVersion reports whether kind is modelled in another version
// of group, and the versions bulkhead reads.
func unsupportedVersion(group, kind string) (want string, policy, ok bool) {
	for gvk, k := range kinds {
		if gvk.Kind != kind {
			continue
		}
		if gvk.Group == group || (group == "extensions" && (k.workload || k.policy)) {
			if w, isPolicy := policyGroups[group]; isPolicy && k.policy {
				return w, true, true
			}
			return schema.GroupVersion{Group: gvk.Group, Version: gvk.Version}.String(), false, true
		}
	}
	return "", false, false
}

// otherPolicyKind reports whether kind looks like a network policy of an
// API bulkhead does not model (Calico, Cilium, ...), which deserves a
// warning rather than a silent skip.
func otherPolicyKind(kind string) bool {
	return strings.Contains(kind, "NetworkPolicy")
}
