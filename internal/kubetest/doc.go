// Package kubetest runs a real kube-apiserver backed by a real etcd on the
// loopback interface, for bulkhead's integration tests against a live cluster.
//
// The binaries come from hack/testenv/build.sh, which builds them once and caches
// them under $HOME/.cache/bulkhead/testenv. A test that needs them fails with a
// message naming that script when they are missing; it skips only when
// BULKHEAD_SKIP_APISERVER=1 is set, and says so.
//
// The cluster has no controller manager, scheduler or kubelet: nothing creates
// service accounts, schedules or runs pods, garbage-collects or finishes deleting
// namespaces. Tests therefore create fresh namespaces (Env.Namespace), set pod
// status themselves (Env.SetPodIPs), and clean up the cluster-scoped objects they
// create (Env.Apply does). The network-policy-api CRDs from hack/testenv/crds are
// installed, Established and served in discovery before Start returns, so
// informers can start at once. Those CRDs are the experimental channel, and the
// v1alpha1 ones check CIDRs with isCIDR only (see hack/testenv/README.md).
//
// Package kubetest never listens on anything but 127.0.0.1, never reads the
// user's kubeconfig and never leaves processes or files behind once a test (or
// Main) finishes.
package kubetest
