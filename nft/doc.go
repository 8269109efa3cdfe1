// Package nft holds bulkhead's nftables ruleset as a plain Go value: one
// table, "table inet bulkhead", with base and regular chains, named sets,
// verdict maps and rules built from a small closed set of typed statements.
//
// The value renders deterministically to the text `nft -f` reads (Render),
// so every ruleset change shows up as a text diff in golden tests; package
// dataplane translates the same value to netlink. Trace evaluates a packet
// through the value the way the kernel does, so the policy compiler can be
// checked against the engine without a kernel, and Diff computes the
// smallest change between two values (set and map elements, replaced
// chains) that the dataplane applies as one transaction. State keeps a
// valid ruleset with indexes so that such a change is checked (exactly as
// Patch would accept it) and applied in time proportional to the change,
// not to the ruleset: what the dataplane keeps of the table it programs.
//
// The policy compiler, from the model to this value, builds on it: the
// value holds what it needs (dispatch on a local pod's address through
// verdict maps into chains shared by pods with the same policies, peers
// in merged interval sets, ports as protocol . port sets, pod-to-itself as
// address pairs) with a per-packet cost independent of the cluster's size.
//
// Package nft is pure: it never runs nft, never opens a socket and never
// touches the kernel.
package nft
