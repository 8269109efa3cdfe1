// Package compile turns the engine's view of one node (its local pods and
// every policy that applies to them) into the nftables ruleset that
// enforces those policies on the node: one nft.Ruleset for
// "table inet bulkhead", which package dataplane applies.
//
// The ruleset's shape keeps the per-packet cost independent of the
// cluster's size (see docs/enforcement.md):
//
//	chain filter_forward (hook forward, policy accept)
//	    ct state established,related accept
//	    ct state untracked meta l4proto ipv6-icmp accept  neighbour discovery
//	    ip saddr . ip daddr @self_v4 accept        pod to itself
//	    ip saddr vmap @egress_v4                   local pod -> its egress chain
//	    ip daddr vmap @ingress_v4                  local pod -> its ingress chain
//	    (and the same for IPv6)
//	chain eg_<hash> / in_<hash>                    one per distinct program
//	    Admin rules, first match:  return (allow), drop (deny), goto *_np (pass)
//	    NetworkPolicy rules (isolated): return, then drop
//	    or Baseline rules, first match: return, drop, return (pass)
//
// A policy chain returns when its direction allows the packet and drops it
// otherwise, so the egress verdict of the source and the ingress verdict
// of the destination must both allow it, as in package eval. Chains are
// shared by all local pods with the same policies (and, for ingress rules
// that name ports, the same named ports); peers live in named sets shared
// by every rule that names the same peer, ports in "protocol . port" sets,
// and egress rules that name ports in "address . protocol . port" sets
// resolved per destination pod.
//
// Names are derived from what they stand for (a peer's selectors, a
// chain's policies), never from their content, so that pod churn changes
// only set and map elements and a policy edit replaces only its chains. A
// Compiler keeps peer sets, named-port sets and chains between
// compilations of one node, and reports each result's change from the
// previous one (Result.Delta, computed from what it knows changed), so
// that following a cluster costs per change, not per cluster, down to
// the dataplane's transaction.
//
// What the ruleset does not enforce: domain-name peers never match
// (resolving names needs DNS; the engine reports those connections as
// unknown), and traffic between a node and its own pods (input and output
// hooks) is not filtered. Result.Warnings says which policies are
// concerned.
//
// Package compile is pure and deterministic: it never touches the kernel,
// never logs, and the same engine and pods always give the same ruleset.
package compile
