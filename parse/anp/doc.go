// Package anp converts the cluster-wide policy tiers of
// sigs.k8s.io/network-policy-api (AdminNetworkPolicy and
// BaselineAdminNetworkPolicy v1alpha1, ClusterNetworkPolicy v1alpha2 and
// v1beta1) into bulkhead's tiered rule IR, validating them as the API
// server and the CRDs' schemas would. It never reads files or talks to a
// cluster.
//
// The mapping, with the API docs it rests on (network-policy-api v0.3.0,
// https://network-policy-api.sigs.k8s.io/api-overview/):
//
//   - AdminNetworkPolicy goes to model.TierAdmin with its priority;
//     BaselineAdminNetworkPolicy, a singleton named "default", to
//     model.TierBaseline with priority 0; ClusterNetworkPolicy to the tier
//     its spec.tier names. Lower priorities run first; within a policy,
//     rules run in the order written.
//   - Actions: Allow (v1alpha1) and Accept (ClusterNetworkPolicy) are
//     model.Allow; Deny; Pass skips the rest of its tier. Pass exists in
//     ClusterNetworkPolicy's Baseline tier too, where the next tier is the
//     default allow.
//   - A policy applies in a direction only when it has rules for it ("ANPs
//     with no ingress rules do not affect ingress traffic"); selecting a
//     pod never isolates it.
//   - Subjects and pod peers never include host-networked pods. A
//     namespaces selector means every pod of those namespaces.
//   - Egress peers may also be networks (CIDRs, matching every address in
//     them, pods and nodes included), nodes (the addresses in the selected
//     nodes' status.addresses, so host-networked pods too, as the
//     conformance test CNPAdminTierEgressNodePeers expects:
//     conformance/tests/admin-network-policy-experimental-egress-rules.go)
//     and domainNames (resolved at run time, supported only in Accept/Allow
//     rules). Ingress peers are pods only.
//   - Absent ports/protocols match every connection; a named port matches
//     the container port of that name whatever its protocol.
//
// Every problem is reported with the object's source and the exact field
// path; an object with an error converts to nil, as the API server would
// not have stored it.
package anp
