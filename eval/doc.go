// Package eval is bulkhead's policy engine: given a model.Snapshot it
// decides which endpoint can open which connections to which other
// endpoint, and explains why, with the exact semantics of Kubernetes
// NetworkPolicy and of the cluster-wide Admin and Baseline tiers.
//
// Each direction of a connection is decided on its own, and both must
// allow it: the source's egress and the destination's ingress. A direction
// is decided in tiers (see decide): Admin-tier rules by ascending priority,
// first match wins (Allow and Deny are final, Pass skips to the next
// tier); then NetworkPolicy, which allows only what some rule of a
// selecting policy allows once any policy isolates the endpoint in that
// direction; then, only where no NetworkPolicy isolates it, Baseline-tier
// rules, first match wins; then default allow. Replies of an allowed
// connection are always allowed, so the engine only reasons about the
// direction a connection is opened in.
//
// The engine never pays pods² × policies. Endpoints that no policy can
// tell apart (same namespace, labels, named ports and address regions)
// form one class; each class runs one "program" per direction (the
// ordered rules that apply to it), and programs are shared by classes. A
// program partitions the peer classes by which of its rules match them,
// and computes one result per part. Connectivity is then a lookup per
// class pair. Explain evaluates one endpoint pair directly, without
// classes, which also makes it the oracle the class machinery is tested
// against.
//
// The package is pure: it never reads files, talks to a cluster or
// touches the kernel, and it never sees Kubernetes API types.
package eval
