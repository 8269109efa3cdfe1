// Package labrun checks the engine against the kernel: it builds a
// manifest set's pods as a network-namespace lab (package lab), puts the
// node agent's compiled nftables rules in each node's namespace (package
// dataplane), probes every (source, destination, port, protocol) with real
// packets and compares what the wire did with what the engine decides.
//
// Build is pure: from a model.Snapshot it lays out the lab (pods spread
// over nodes, addresses from the manifests or assigned), rebuilds the
// engine over the lab's actual addresses, and places external hosts at
// representative addresses of each external range the engine tells apart,
// so that ipBlock and networks rules meet real packets on both sides of
// their edges. Probes and Compare turn probe results into the wire's truth
// table and a list of mismatches, each with the engine's explanation.
//
// Up, Enforce, Probe and Run (Linux only) touch the kernel through
// packages lab and dataplane; labrun itself never opens a socket, never
// talks netlink and never runs external programs. It builds no node or
// hostNetwork endpoint (the lab has no place for them) and says so in
// Setup.Skipped.
package labrun
