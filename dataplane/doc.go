// Package dataplane applies bulkhead's nftables ruleset (an nft.Ruleset)
// to the kernel and reads it back.
//
// Applier is the interface the agent uses. Netlink (Linux only) talks to
// the kernel over netlink with github.com/google/nftables, optionally in
// another network namespace (Config.NetNS or Config.NetNSPath), and Fake
// keeps the table in memory for unit tests, failing on demand.
//
// Every Apply or ApplyDelta is one netlink batch, which nf_tables commits
// as one atomic transaction, on one table, "table inet bulkhead"; no other
// table is ever touched. The first call, and the first after a failure or
// Reset, replaces the table whole: "add table; delete table; add table …"
// in the same batch, so that a restarted agent converges whatever it
// finds. Later ones send only a change: set and map elements for pod
// churn, and for a changed chain a flush and the new rules in the same
// batch (rather than a chain built under a new name and re-pointed: the
// batch is atomic anyway, names stay stable and no vmap element or jump
// needs rewriting; only that chain's counters restart).
//
// The applier keeps the table as it last committed it in an nft.State. Apply
// validates the whole new ruleset and diffs it against that table, which
// costs time in proportion to the ruleset; ApplyDelta takes the change
// from the caller (the compiler knows what it changed) and checks only
// what the change touches against the State, then patches the State
// (copying only the element lists that change), so that a pod added to a
// table of 100,000 elements costs about that pod's elements.
//
// If the kernel rejects the batch nothing changes, the call returns the
// error, and the applier keeps the last good table as its baseline: it
// fails closed. A change the State refuses never reaches the kernel. Large batches stay whole: the netlink socket buffers grow
// (Config.SocketBuffer) instead, and long element lists are split over
// several messages inside the batch only because one netlink attribute
// holds at most 64 KiB.
//
// Package dataplane never decides what the rules are; that is package
// nft. It never runs the nft binary, except in tests that compare it with
// nft.
package dataplane
