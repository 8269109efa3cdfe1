// Package dataplane applies bulkhead's nftables ruleset (an nft.Ruleset)
// to the kernel and reads it back.
//
// Applier is the interface the agent uses. Netlink (Linux only) talks to
// the kernel over netlink with github.com/google/nftables, optionally in
// another network namespace, and Fake keeps the table in memory for unit
// tests, failing on demand.
//
// Every Apply is one atomic transaction on one table, "table inet
// bulkhead", and touches no other table. The first Apply (and the first
// after a failure) replaces the table whole; later ones apply nft.Diff
// from the last ruleset applied: set and map elements for pod churn, whole
// chains for policy changes. If the kernel rejects a transaction nothing
// changes, and the applier keeps the last good ruleset as its baseline:
// it fails closed.
//
// Package dataplane never decides what the rules are; that is package
// nft's compiler. It never runs the nft binary, except in tests that
// compare it with nft.
package dataplane
