// Package parse is the home of bulkhead's input side. Its subpackages turn
// Kubernetes objects into the model: netpol converts NetworkPolicy, anp the
// cluster-wide tiers, and manifest loads files and streams of manifests
// into a model.Snapshot through a Builder that the live-cluster source
// reuses.
//
// Nothing under parse evaluates policies, talks to a cluster or imports
// client-go: parsers validate as the API server would and report every
// problem as data (model.Problem) naming the file, the object and the
// field.
package parse
