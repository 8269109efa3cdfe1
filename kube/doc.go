// Package kube reads a live Kubernetes cluster into bulkhead's model and
// follows it as it changes. It is, with dataplane and lab, one of the only
// packages that talk to the world: it loads client configuration the way
// kubectl does (--kubeconfig, KUBECONFIG, ~/.kube/config, --context, and
// in-cluster configuration inside a pod), lists every modelled kind page
// by page, and watches them with informers.
//
// The cluster is modelled by the same parse/manifest.Builder as manifests,
// with model.Source{File: ""}, so a snapshot read from a cluster is the one
// the same objects would give as YAML. Read does that once; Watcher keeps
// a State, which applies each object event to the model incrementally
// (only the touched endpoint, policy, namespace or node is modelled again)
// and hands out the new snapshot with what changed and why; a Syncer wraps a
// Watcher for long-running consumers such as the node agent, with a
// resync period and exponential backoff, keeping the last good snapshot
// while the API server is unreachable.
//
// The network-policy-api kinds are read through the dynamic client in the
// version the server serves (ClusterNetworkPolicy v1beta1 before v1alpha2;
// AdminNetworkPolicy and BaselineAdminNetworkPolicy v1alpha1); a kind whose
// CRD is not installed is reported, not fatal. An RBAC denial is an
// *AccessError naming the verb, the resource and the namespace.
//
// The package never evaluates policies and never writes to the cluster.
package kube
