// Package blast answers "if this workload is compromised, what else can the
// attacker reach?": every endpoint reachable from a starting endpoint over
// allowed connections, directly or by lateral movement through the
// endpoints it reaches, with one shortest path to each, and a ranking of
// the workloads whose compromise reaches the most.
//
// The model is a directed graph over the engine's endpoints with an edge
// from a to b when a may open at least one connection to b
// (eval.Connectivity). Every pod, workload and node that is reached is
// assumed compromised in turn and moves on from there; addresses outside
// the cluster are sinks (the internet is a place an attacker can send data
// to, not one it moves laterally through), except as the starting point.
// Connections that depend on domain names (unknown) are not edges unless
// Options.IncludeUnknown says so.
//
// The package is pure: it never reads files, talks to a cluster or logs.
package blast
