// Package dataplane applies bulkhead's nftables ruleset (an nft.Ruleset)
// to the kernel and reads it back.
//
// Applier is the interface the agent uses. Netlink (Linux only) talks to
// the kernel over netlink with github.com/google/nftables, optionally in
// another network namespace (Config.NetNS or Config.NetNSPath), and Fake
// keeps the table in memory for unit tests, failing on demand.
//
// Every Apply is one netlink batch, which nf_tables commits as one atomic
// transaction, on one table, "table inet bulkhead"; no other table is ever
// touched. The first Apply, and the first after a failure or Reset,
// replaces the table whole: "add table; delete table; add table …" in the
// same batch, so that a restarted agent converges whatever it finds.
// Later ones apply nft.Diff from the last ruleset applied: set and map
// elements for pod churn, and for a changed chain a flush and the new
// rules in the same batch (rather than a chain built under a new name and
// re-pointed: the batch is atomic anyway, names stay stable and no vmap
// element or jump needs rewriting; only that chain's counters restart).
//
// If the kernel rejects the batch nothing changes, Apply returns the error,
// and the applier keeps the last good ruleset as its baseline: it fails
// closed. Large batches stay whole: the netlink socket buffers grow
// (Config.SocketBuffer) instead, and long element lists are split over
// several messages inside the batch only because one netlink attribute
// holds at most 64 KiB.
//
// Package dataplane never decides what the rules are; that is package
// nft. It never runs the nft binary, except in tests that compare it with
// nft.
package dataplane
