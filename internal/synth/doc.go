// Package synth generates deterministic synthetic clusters for benchmarks
// and scale tests: namespaces, pods with addresses and named ports, and
// NetworkPolicies (and optionally cluster-tier policies) of the variety
// real clusters have. The same seed and sizes always give the same
// objects. It never reads files or talks to a cluster.
package synth
