package lab

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/bulkhead/bulkhead/model"
)

// NetnsKind says what a lab network namespace stands for.
type NetnsKind uint8

const (
	NetnsUnknown NetnsKind = iota
	// NetnsNode is a node: a bridge for its pods, routed links to the
	// other nodes and to the outside namespace. Rules are applied here.
	NetnsNode
	// NetnsPod is one pod.
	NetnsPod
	// NetnsOutside holds every external host.
	NetnsOutside
)

func (k NetnsKind) String() string {
	switch k {
	case NetnsNode:
		return "node"
	case NetnsPod:
		return "pod"
	case NetnsOutside:
		return "outside"
	}
	return "unknown"
}

// Fixed addresses of the lab's plumbing, all link-local so that they can
// never clash with a manifest's pod or external addresses (Resolve
// rejects those ranges).
var (
	// gateway4 and gateway6 sit on every node's bridge; every pod routes
	// through them.
	gateway4 = netip.MustParseAddr("169.254.1.1")
	gateway6 = netip.MustParseAddr("fe80::1")
	// outside4 and outside6 are the outside namespace's end of every
	// node uplink.
	outside4 = netip.MustParseAddr("169.254.3.1")
	outside6 = netip.MustParseAddr("fe80::3:1")
)

// nodeAddr returns node i's address on its transit links and uplink:
// 169.254.2.<i+1> or fe80::2:<i+1>.
func nodeAddr(i int, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16([16]byte{0xfe, 0x80, 12: 0, 13: 2, 14: 0, 15: byte(i + 1)})
	}
	return netip.AddrFrom4([4]byte{169, 254, 2, byte(i + 1)})
}

// Deterministic, locally administered MACs (02:62:...), so that neighbour
// entries can be permanent and plans render the same every time.
func mac(kind byte, a, b, c int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x62, kind, byte(a), byte(b), byte(c)}
}

func podMAC(k int) net.HardwareAddr    { return mac(0, k>>16, k>>8, k) }
func portMAC(k int) net.HardwareAddr   { return mac(5, k>>16, k>>8, k) }
func bridgeMAC(i int) net.HardwareAddr { return mac(1, 0, 0, i) }
func transitMAC(i, j int) net.HardwareAddr {
	return mac(2, 0, i, j)
}
func uplinkMAC(i int) net.HardwareAddr   { return mac(3, 0, 0, i) }
func downlinkMAC(i int) net.HardwareAddr { return mac(4, 0, 0, i) }

// Interface names. They live only inside the lab's namespaces, so they
// need no prefix to be unique.
const (
	bridgeName = "br0"
	podIfName  = "eth0"
	uplinkName = "out0"
)

func portName(k int) string     { return fmt.Sprintf("vp%d", k) }
func transitName(j int) string  { return fmt.Sprintf("tn%d", j) }
func downlinkName(i int) string { return fmt.Sprintf("dn%d", i) }

// Plan is every kernel object Up creates for a resolved Topology, as
// plain data: namespaces in creation order, each with its sysctls, links,
// addresses, permanent neighbour entries, routes and listeners. Plans
// render as text (String) for golden tests and for a CLI's dry run.
type Plan struct {
	// Topology is the resolved topology the plan builds.
	Topology   Topology
	Namespaces []NetnsPlan
}

// NetnsPlan is one network namespace of a Plan.
type NetnsPlan struct {
	// Name is the namespace's name under /run/netns, starting with the
	// topology's prefix.
	Name string
	Kind NetnsKind
	// Owner is the node's name for a node, the host's name for a pod, and
	// empty for the outside namespace.
	Owner   string
	Sysctls []Sysctl
	// Links are created from this namespace; a veth's peer is created in
	// the namespace the link names.
	Links     []LinkPlan
	Addrs     []AddrPlan
	Neighs    []NeighPlan
	Routes    []RoutePlan
	Listeners []ListenerPlan
}

// Sysctl is one /proc/sys/net setting, written inside the namespace.
type Sysctl struct {
	Key   string // dotted, e.g. "net.ipv4.ip_forward"
	Value string
}

// LinkPlan is a bridge or a veth pair.
type LinkPlan struct {
	Name string
	Kind string // "bridge" or "veth"
	MAC  net.HardwareAddr
	// Master is the bridge this link is a port of, or empty.
	Master string
	// PeerNetns, PeerName and PeerMAC describe a veth's other end.
	PeerNetns string
	PeerName  string
	PeerMAC   net.HardwareAddr
}

// AddrPlan is an address on a link ("lo" for the outside namespace's
// external hosts). IPv6 addresses are added without duplicate address
// detection so that they are usable at once.
type AddrPlan struct {
	Dev    string
	Prefix netip.Prefix
}

// NeighPlan is a permanent neighbour entry. Every neighbour in the lab is
// known in advance, so no probe ever waits for (or is dropped while
// waiting for) ARP or neighbour discovery.
type NeighPlan struct {
	Dev string
	IP  netip.Addr
	MAC net.HardwareAddr
}

// RoutePlan is a route in the main table: on-link when Via is the zero
// Addr.
type RoutePlan struct {
	Dst netip.Prefix
	Via netip.Addr
	Dev string
}

// ListenerPlan is one socket a host listens on: TCP and UDP on its
// declared ports, and one raw SCTP socket per address that answers INITs
// for the declared SCTP ports (and ABORTs the others, as an SCTP stack
// with no listener on the port would).
type ListenerPlan struct {
	Host     HostName
	Addr     netip.Addr
	Protocol model.Protocol
	// Port is the TCP or UDP port; zero for the raw SCTP socket.
	Port uint16
	// SCTPPorts are the ports the raw SCTP socket accepts.
	SCTPPorts []uint16
}

// Plan resolves t and lays out the namespaces, links, addresses,
// neighbours, routes and listeners that build it. It never touches the
// kernel.
//
// The layout: each pod has eth0 with its addresses as host routes (/32,
// /128), a default route through the node's gateway (169.254.1.1 and
// fe80::1 on the node's bridge) and on-link host routes to the other pods
// of its node, so that pods on one node talk across the bridge (layer 2)
// while every other destination is routed by the node. Nodes are joined
// pairwise by veth links and route each remote pod's host route to the
// node that runs it, so cross-node traffic goes pod, node A, node B, pod.
// External hosts sit on the loopback of one outside namespace with an
// uplink to every node, so each node reaches them directly and they reach
// a pod through its node. Nothing is created in, or routed to, the
// namespace the caller runs in.
func (t Topology) Plan() (*Plan, error) {
	r, err := t.Resolve()
	if err != nil {
		return nil, err
	}
	p := &Plan{Topology: r}

	nodeNS := make([]string, len(r.Nodes))
	nodeOf := map[string]int{}
	taken := map[string]bool{}
	unique := func(base string) string {
		name := base
		for n := 2; taken[name]; n++ {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		taken[name] = true
		return name
	}
	for i, n := range r.Nodes {
		nodeNS[i] = unique(r.Prefix + "node-" + sanitize(n.Name))
		nodeOf[n.Name] = i
	}
	outsideNS := ""
	if len(r.External) > 0 {
		outsideNS = unique(r.Prefix + "outside")
	}
	podNS := make([]string, len(r.Hosts))
	for k, h := range r.Hosts {
		podNS[k] = unique(r.Prefix + "pod-" + sanitize(string(h.Name)))
	}
	podsOn := make([][]int, len(r.Nodes))
	for k, h := range r.Hosts {
		i := nodeOf[h.Node]
		podsOn[i] = append(podsOn[i], k)
	}

	common := []Sysctl{
		{"net.ipv4.conf.all.rp_filter", "0"},
		{"net.ipv4.conf.default.rp_filter", "0"},
		{"net.ipv6.conf.all.accept_dad", "0"},
		{"net.ipv6.conf.default.accept_dad", "0"},
	}
	hostRoute := func(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }
	linkLocal := func(a netip.Addr) netip.Prefix {
		if a.Is6() {
			return netip.PrefixFrom(a, 64)
		}
		return netip.PrefixFrom(a, 32)
	}

	// Nodes.
	for i, n := range r.Nodes {
		ns := NetnsPlan{Name: nodeNS[i], Kind: NetnsNode, Owner: n.Name}
		// ip_forward first: writing it resets the per-device forwarding
		// settings. bridge-nf-call-* make bridged (same-node) traffic go
		// through the inet forward hook, where the agent's rules are.
		ns.Sysctls = append([]Sysctl{
			{"net.ipv4.ip_forward", "1"},
			{"net.ipv6.conf.all.forwarding", "1"},
		}, common...)
		ns.Sysctls = append(ns.Sysctls,
			Sysctl{"net.bridge.bridge-nf-call-iptables", "1"},
			Sysctl{"net.bridge.bridge-nf-call-ip6tables", "1"},
		)
		ns.Links = append(ns.Links, LinkPlan{Name: bridgeName, Kind: "bridge", MAC: bridgeMAC(i)})
		ns.Addrs = append(ns.Addrs, AddrPlan{bridgeName, linkLocal(gateway4)}, AddrPlan{bridgeName, linkLocal(gateway6)})
		for _, k := range podsOn[i] {
			ns.Links = append(ns.Links, LinkPlan{
				Name: portName(k), Kind: "veth", MAC: portMAC(k), Master: bridgeName,
				PeerNetns: podNS[k], PeerName: podIfName, PeerMAC: podMAC(k),
			})
			for _, a := range r.Hosts[k].Addrs {
				ns.Neighs = append(ns.Neighs, NeighPlan{bridgeName, a, podMAC(k)})
				ns.Routes = append(ns.Routes, RoutePlan{Dst: hostRoute(a), Dev: bridgeName})
			}
		}
		for j := range r.Nodes {
			if j == i {
				continue
			}
			dev := transitName(j)
			if j > i { // the lower-numbered node creates the pair
				ns.Links = append(ns.Links, LinkPlan{
					Name: dev, Kind: "veth", MAC: transitMAC(i, j),
					PeerNetns: nodeNS[j], PeerName: transitName(i), PeerMAC: transitMAC(j, i),
				})
			}
			for _, v6 := range []bool{false, true} {
				ns.Addrs = append(ns.Addrs, AddrPlan{dev, linkLocal(nodeAddr(i, v6))})
				ns.Neighs = append(ns.Neighs, NeighPlan{dev, nodeAddr(j, v6), transitMAC(j, i)})
			}
			ns.Routes = append(ns.Routes, RoutePlan{Dst: hostRoute(nodeAddr(j, false)), Dev: dev})
			for _, k := range podsOn[j] {
				for _, a := range r.Hosts[k].Addrs {
					ns.Routes = append(ns.Routes, RoutePlan{Dst: hostRoute(a), Via: nodeAddr(j, a.Is6()), Dev: dev})
				}
			}
		}
		if outsideNS != "" {
			for _, v6 := range []bool{false, true} {
				ns.Addrs = append(ns.Addrs, AddrPlan{uplinkName, linkLocal(nodeAddr(i, v6))})
			}
			ns.Neighs = append(ns.Neighs, NeighPlan{uplinkName, outside4, downlinkMAC(i)}, NeighPlan{uplinkName, outside6, downlinkMAC(i)})
			ns.Routes = append(ns.Routes, RoutePlan{Dst: hostRoute(outside4), Dev: uplinkName})
			for _, h := range r.External {
				for _, a := range h.Addrs {
					via := outside4
					if a.Is6() {
						via = outside6
					}
					ns.Routes = append(ns.Routes, RoutePlan{Dst: hostRoute(a), Via: via, Dev: uplinkName})
				}
			}
		}
		p.Namespaces = append(p.Namespaces, ns)
	}

	// The outside namespace creates the uplinks, one per node.
	if outsideNS != "" {
		ns := NetnsPlan{Name: outsideNS, Kind: NetnsOutside}
		ns.Sysctls = append([]Sysctl{
			{"net.ipv4.ip_forward", "0"},
			{"net.ipv6.conf.all.forwarding", "0"},
		}, common...)
		for _, h := range r.External {
			for _, a := range h.Addrs {
				ns.Addrs = append(ns.Addrs, AddrPlan{"lo", hostRoute(a)})
			}
			ns.Listeners = append(ns.Listeners, listeners(h)...)
		}
		for i := range r.Nodes {
			dev := downlinkName(i)
			ns.Links = append(ns.Links, LinkPlan{
				Name: dev, Kind: "veth", MAC: downlinkMAC(i),
				PeerNetns: nodeNS[i], PeerName: uplinkName, PeerMAC: uplinkMAC(i),
			})
			ns.Addrs = append(ns.Addrs, AddrPlan{dev, linkLocal(outside4)}, AddrPlan{dev, linkLocal(outside6)})
			for _, v6 := range []bool{false, true} {
				ns.Neighs = append(ns.Neighs, NeighPlan{dev, nodeAddr(i, v6), uplinkMAC(i)})
			}
			ns.Routes = append(ns.Routes, RoutePlan{Dst: hostRoute(nodeAddr(i, false)), Dev: dev})
			for _, k := range podsOn[i] {
				for _, a := range r.Hosts[k].Addrs {
					ns.Routes = append(ns.Routes, RoutePlan{Dst: hostRoute(a), Via: nodeAddr(i, a.Is6()), Dev: dev})
				}
			}
		}
		p.Namespaces = append(p.Namespaces, ns)
	}

	// Pods.
	for k, h := range r.Hosts {
		i := nodeOf[h.Node]
		ns := NetnsPlan{Name: podNS[k], Kind: NetnsPod, Owner: string(h.Name)}
		ns.Sysctls = append([]Sysctl{
			{"net.ipv4.ip_forward", "0"},
			{"net.ipv6.conf.all.forwarding", "0"},
		}, common...)
		for _, a := range h.Addrs {
			ns.Addrs = append(ns.Addrs, AddrPlan{podIfName, hostRoute(a)})
		}
		for _, v6 := range []bool{false, true} {
			if !h.Addr(v6).IsValid() {
				continue
			}
			gw, def := gateway4, netip.PrefixFrom(netip.IPv4Unspecified(), 0)
			if v6 {
				gw, def = gateway6, netip.PrefixFrom(netip.IPv6Unspecified(), 0)
			}
			ns.Neighs = append(ns.Neighs, NeighPlan{podIfName, gw, bridgeMAC(i)})
			if !v6 { // IPv6 reaches fe80::1 through the kernel's fe80::/64 route
				ns.Routes = append(ns.Routes, RoutePlan{Dst: hostRoute(gw), Dev: podIfName})
			}
			ns.Routes = append(ns.Routes, RoutePlan{Dst: def, Via: gw, Dev: podIfName})
			for _, m := range podsOn[i] {
				if a := r.Hosts[m].Addr(v6); m != k && a.IsValid() {
					ns.Neighs = append(ns.Neighs, NeighPlan{podIfName, a, podMAC(m)})
					ns.Routes = append(ns.Routes, RoutePlan{Dst: hostRoute(a), Dev: podIfName})
				}
			}
		}
		ns.Listeners = listeners(h)
		p.Namespaces = append(p.Namespaces, ns)
	}
	return p, nil
}

// listeners lays out h's sockets: per address, one TCP or UDP socket per
// declared port and one raw SCTP socket.
func listeners(h Host) []ListenerPlan {
	var out []ListenerPlan
	var sctp []uint16
	for _, p := range h.Ports {
		if p.Protocol == model.SCTP {
			sctp = append(sctp, p.Port)
		}
	}
	for _, a := range h.Addrs {
		for _, p := range h.Ports {
			if p.Protocol != model.SCTP {
				out = append(out, ListenerPlan{Host: h.Name, Addr: a, Protocol: p.Protocol, Port: p.Port})
			}
		}
		out = append(out, ListenerPlan{Host: h.Name, Addr: a, Protocol: model.SCTP, SCTPPorts: sctp})
	}
	return out
}

// Netns returns the plan of the namespace called name, or nil.
func (p *Plan) Netns(name string) *NetnsPlan {
	for i := range p.Namespaces {
		if p.Namespaces[i].Name == name {
			return &p.Namespaces[i]
		}
	}
	return nil
}

// NodeNetns returns the name of node's namespace, or "".
func (p *Plan) NodeNetns(node string) string {
	for _, ns := range p.Namespaces {
		if ns.Kind == NetnsNode && ns.Owner == node {
			return ns.Name
		}
	}
	return ""
}

// HostNetns returns the name of the namespace host lives in (its pod's,
// or the outside namespace for an external host), or "".
func (p *Plan) HostNetns(host HostName) string {
	for _, ns := range p.Namespaces {
		switch {
		case ns.Kind == NetnsPod && ns.Owner == string(host):
			return ns.Name
		case ns.Kind == NetnsOutside:
			if slices.ContainsFunc(p.Topology.External, func(h Host) bool { return h.Name == host }) {
				return ns.Name
			}
		}
	}
	return ""
}

// String renders the plan one object a line, like "ip" would list it.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "prefix %s\n", p.Topology.Prefix)
	for _, ns := range p.Namespaces {
		switch ns.Kind {
		case NetnsOutside:
			fmt.Fprintf(&b, "netns %s (outside)\n", ns.Name)
		default:
			fmt.Fprintf(&b, "netns %s (%s %s)\n", ns.Name, ns.Kind, ns.Owner)
		}
		for _, s := range ns.Sysctls {
			fmt.Fprintf(&b, "  sysctl %s=%s\n", s.Key, s.Value)
		}
		b.WriteString("  link lo up\n")
		for _, l := range ns.Links {
			fmt.Fprintf(&b, "  link %s %s address %s", l.Name, l.Kind, l.MAC)
			if l.Master != "" {
				fmt.Fprintf(&b, " master %s", l.Master)
			}
			if l.Kind == "veth" {
				fmt.Fprintf(&b, " peer %s address %s netns %s", l.PeerName, l.PeerMAC, l.PeerNetns)
			}
			b.WriteString(" up\n")
		}
		for _, a := range ns.Addrs {
			fmt.Fprintf(&b, "  addr %s dev %s\n", a.Prefix, a.Dev)
		}
		for _, n := range ns.Neighs {
			fmt.Fprintf(&b, "  neigh %s lladdr %s dev %s permanent\n", n.IP, n.MAC, n.Dev)
		}
		for _, r := range ns.Routes {
			if r.Via.IsValid() {
				fmt.Fprintf(&b, "  route %s via %s dev %s\n", r.Dst, r.Via, r.Dev)
			} else {
				fmt.Fprintf(&b, "  route %s dev %s\n", r.Dst, r.Dev)
			}
		}
		for _, l := range ns.Listeners {
			if l.Protocol == model.SCTP {
				ports := "none"
				if len(l.SCTPPorts) > 0 {
					ports = strings.Trim(strings.ReplaceAll(fmt.Sprint(l.SCTPPorts), " ", ","), "[]")
				}
				fmt.Fprintf(&b, "  listen sctp %s raw, ports %s\n", l.Addr, ports)
			} else {
				fmt.Fprintf(&b, "  listen %s %s\n", strings.ToLower(l.Protocol.String()), netip.AddrPortFrom(l.Addr, l.Port))
			}
		}
	}
	return b.String()
}
