// Package lab builds Kubernetes-like pods as network namespaces on this
// machine and probes them with real packets, so that compiled nftables
// rules can be checked against what the engine decides.
//
// A Topology lists nodes, pods (hosts on a node, with addresses and
// declared ports) and optional external hosts. Up creates one named
// network namespace per node and per pod, and one "outside" namespace for
// the external hosts, all named with the topology's prefix and
// bind-mounted under /run/netns. Pods of a node share the node's bridge;
// nodes are joined by routed veth links; the outside namespace hangs off
// every node. Every pod address is a host route, so pod IPs taken from
// manifests may sit in any subnet. Each host listens on each declared
// port: TCP accepts, UDP echoes, and, because this kernel has no SCTP
// sockets, a raw socket answers SCTP INITs with INIT ACKs (and ABORTs
// INITs to other ports) as an SCTP stack would. Probe and ProbeAll open
// real connections from inside a host's namespace.
//
// Rules belong in the node namespaces (NodeNetns), in the inet forward
// hook: routed traffic (cross-node, to and from external hosts) passes it
// on each node it crosses, and traffic between pods of one node, which is
// bridged, passes it because every node namespace sets
// net.bridge.bridge-nf-call-iptables and -ip6tables to 1. Traffic from a
// pod to itself never leaves the pod and passes no hook.
//
// The lab never creates links, addresses or routes in the namespace of
// the calling process, and no route leads from the lab to the machine's
// own interfaces; the only footprint outside the lab's namespaces is their
// bind mounts, which Down (or Cleanup after a crash) removes. It never
// runs external programs. It needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)
// and Linux; Topology, Plan and the probe types are plain values usable
// anywhere.
package lab
