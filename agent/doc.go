// Package agent is bulkhead's node agent: it follows the cluster's state
// from a Source (manifests today, the API server through package kube),
// keeps the engine current with eval.Tracker, compiles the ruleset of the
// node's own pods with compile.Compiler and applies it with a
// dataplane.Applier, one atomic nftables transaction per change.
//
// The agent fails closed: an update that cannot be read, compiled or
// applied changes nothing in the kernel (the previous ruleset stays in
// force), is logged and counted, and is retried. A restarted agent
// converges: its first transaction replaces bulkhead's table whole, and
// until then the table the previous process left keeps being enforced.
// Every change is logged with the chains, policies and pods it concerns,
// and the agent's state is exported as Prometheus metrics.
//
// Package agent never decides what the rules are (package compile does)
// and never touches a table other than its own (package dataplane).
package agent
