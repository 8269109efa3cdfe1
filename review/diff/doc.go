// Package diff compares the connectivity of two snapshots (two directories
// of manifests, two git revisions, a cluster before and after a change)
// and says what each change of the policies, endpoints and namespaces did:
// every connection added, removed or changed, with the changes that caused
// it.
//
// Policies are matched by kind, namespace and name and compared in the
// engine's IR, so reformatting a manifest or reordering its fields is no
// change, while any change that can alter a decision (subject, rules,
// peers, ports, priority, isolation) is one. Endpoints are matched by ID;
// the addresses outside the cluster are matched by address, because the
// engine splits them differently whenever the policies' CIDRs change.
//
// A connection change is attributed to a changed policy when that policy
// decided some of the pair's connections on either side, before or after
// (it appears in eval.Explain's trace), or when it is a NetworkPolicy
// selecting an endpoint whose isolation changed in that direction; and to
// an endpoint or namespace change of either end (added, removed, labels,
// ports, addresses). With the endpoints unchanged, a connection can only
// change if a changed policy decided part of it, so every change has a
// cause; the tests check that on random mutations.
//
// The package is pure: it never reads files, runs git or logs.
package diff
