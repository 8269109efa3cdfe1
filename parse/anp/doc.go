// Package anp converts the cluster-wide policy tiers of
// sigs.k8s.io/network-policy-api (AdminNetworkPolicy and
// BaselineAdminNetworkPolicy v1alpha1, ClusterNetworkPolicy v1alpha2 and
// v1beta1) into bulkhead's tiered rule IR, validating them as the API
// server and the CRDs' schemas would. It never reads files or talks to a
// cluster.
package anp
