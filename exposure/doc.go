// Package exposure reports what each pod and workload exposes and what it
// may reach, per direction, as its own policies decide it: from (to) the
// internet, from (to) every pod of the cluster, from (to) which
// namespaces; and which endpoints no policy protects in a direction.
//
// Each direction is judged on its own. Ingress exposure is what the
// workload's ingress rules admit, whatever the sources' egress policies
// say, because that is what the workload's owner controls and what a
// newly deployed or compromised source could use; egress is the mirror.
// The engine decides the two directions independently (see package eval),
// so the package evaluates a copy of the snapshot whose policies keep one
// direction only: exactly the engine's verdict for that direction.
//
// The package is pure: it never reads files, talks to a cluster or logs.
package exposure
