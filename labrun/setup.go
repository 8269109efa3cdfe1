package labrun

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/lab"
	"github.com/bulkhead/bulkhead/model"
)

// DefaultNodes is the number of node namespaces pods are spread over when
// Options.Nodes is zero: two, so that traffic between pods of one node
// (bridged) and between pods of different nodes (routed) both meet the
// rules.
const DefaultNodes = 2

// Port is one destination port the lab probes, on every host.
type Port struct {
	Protocol model.Protocol
	Port     uint16
}

// String formats the port as `bulkhead matrix` names its tables: "80/TCP".
func (p Port) String() string { return fmt.Sprintf("%d/%s", p.Port, p.Protocol) }

func comparePorts(a, b Port) int {
	return cmp.Or(cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Port, b.Port))
}

// Options configure Build.
type Options struct {
	// Prefix starts the name of every namespace of the lab; "" means
	// lab.DefaultPrefix.
	Prefix string
	// Nodes is the number of nodes pods without a nodeName are spread
	// over, round-robin in ID order; 0 means DefaultNodes.
	Nodes int
	// Ports are the ports probed, on every host; nil means DefaultPorts.
	// Every host listens on each of them (and on its declared ports), so
	// that a refused or unanswered probe can only mean the rules stopped
	// it.
	Ports []Port
	// Eval are the engine's options, as the CLI's input flags set them.
	Eval eval.Options
	// Avoid are address ranges external hosts must not take, beyond the
	// ones they never take (see Build): the machine's own subnets, say.
	Avoid []netip.Prefix
	// Concurrency is the number of probes in flight; 0 means
	// lab.DefaultConcurrency. Fewer take longer (a dropped flow costs a
	// timeout) but load the machine less: on a busy machine a probe that
	// waits long for a CPU can time out although the flow is allowed.
	Concurrency int
	// OneExternalPerRange places one external host per external range
	// (its first usable address) instead of two (its first and last), which
	// halves the external probes and loses the edge on one side.
	OneExternalPerRange bool
}

// External is an external host of the lab and the engine's external
// endpoint (an address range) its addresses belong to.
type External struct {
	Host     lab.HostName
	Endpoint *model.Endpoint
}

// Setup is a lab laid out for a snapshot, with the engine that sees the
// lab's addresses. Build makes it; it is a plain value.
type Setup struct {
	// Topology is the lab, resolved: every host has its addresses and
	// ports.
	Topology lab.Topology
	// Engine is built from the snapshot with every pod's lab addresses,
	// so that ipBlocks and networks peers see what the kernel sees.
	Engine *eval.Engine
	// Ports are the probed ports, by protocol and number.
	Ports []Port
	// Pods are the engine's endpoints built as lab pods, in the engine's
	// order: the rows and columns of the truth table.
	Pods []*model.Endpoint
	// Externals are the lab's external hosts.
	Externals []External
	// Skipped says, one line each, what the lab does not build or probe.
	Skipped []string

	// input is Topology before resolution, with every address explicit:
	// what Up and Attach resolve again (a resolved Topology pins each
	// node's pod CIDRs, which manifest addresses need not lie in).
	input lab.Topology

	byHost      map[lab.HostName]*model.Endpoint
	byAddr      map[netip.Addr]lab.HostName
	concurrency int
}

// Never are the ranges external hosts never take: "this network",
// loopback, link-local (the lab's gateways), TEST-NET-1 (which test
// machines use for their own interfaces), multicast and reserved; IPv4-
// mapped, link-local and multicast IPv6. External hosts live in the lab's
// outside namespace and nothing routes to them from the machine, but an
// address a machine uses for itself would still confuse whoever reads a
// report.
var never = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("224.0.0.0/3"),
	netip.MustParsePrefix("::/127"),
	netip.MustParsePrefix("::ffff:0:0/96"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

// pools are where external hosts' addresses come from, in order of
// preference: documentation ranges, then private ones, then anything left.
var pools = [2][]netip.Prefix{
	{
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("0.0.0.0/0"),
	},
	{
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("::/0"),
	},
}

// Build lays out the lab for snap: one pod per pod and workload (a
// workload stands for one of its pods), spread over opts.Nodes nodes
// unless it names its node, with the addresses its manifest gives or,
// failing that, addresses the lab assigns (10.244.<node>.0/24). It then
// rebuilds the engine from snap with those addresses, so that the engine
// and the kernel judge the same packets.
//
// External hosts stand for the engine's external endpoints, the address
// ranges its ipBlocks and networks peers tell apart: for each, a host at
// its first usable address and one at its last (IPv4 and IPv6 where the
// range has both), taken from documentation ranges when the range reaches
// them, then private ones. Usable excludes the Never ranges, opts.Avoid,
// the lab's pod subnets and pod addresses. A range with no usable address
// is skipped and listed in Skipped, as are hostNetwork pods; nodes are not
// built either (the lab has no place for them), so no probe targets a
// node address.
//
// Build fails, naming the host and field, when the lab cannot hold the
// snapshot's pods (two pods with one address, an address the lab
// reserves, more addresses of a family than one).
func Build(snap *model.Snapshot, opts Options) (*Setup, error) {
	nodes := opts.Nodes
	if nodes <= 0 {
		nodes = DefaultNodes
	}
	ports := slices.Clone(opts.Ports)
	if ports == nil {
		ports = DefaultPorts(snap)
	}
	slices.SortFunc(ports, comparePorts)
	ports = slices.Compact(ports)
	for _, p := range ports {
		if p.Port == 0 || (p.Protocol != model.TCP && p.Protocol != model.UDP && p.Protocol != model.SCTP) {
			return nil, fmt.Errorf("port %v: want a port from 1 to 65535 over TCP, UDP or SCTP", p)
		}
	}
	if len(ports) == 0 {
		return nil, errors.New("no ports to probe: the manifests declare no container ports and name none in policies; give --port")
	}

	var pods []*model.Endpoint
	for _, ep := range snap.Endpoints {
		if ep.IsPodLike() {
			pods = append(pods, ep)
		}
	}
	model.SortEndpoints(pods)
	topo, notes := lab.FromEndpoints(pods, nodes)
	topo.Prefix = opts.Prefix
	for i := range topo.Hosts {
		for _, p := range ports {
			topo.Hosts[i].Ports = append(topo.Hosts[i].Ports, model.ContainerPort{Protocol: p.Protocol, Port: p.Port})
		}
	}
	resolved, err := topo.Resolve()
	if err != nil {
		return nil, fmt.Errorf("laying out the lab: %w", err)
	}

	// The engine sees every pod with its lab addresses.
	addrs := map[lab.HostName][]netip.Addr{}
	for _, h := range resolved.Hosts {
		addrs[h.Name] = h.Addrs
	}
	patched := *snap
	patched.Endpoints = make([]*model.Endpoint, len(snap.Endpoints))
	for i, ep := range snap.Endpoints {
		c := *ep
		if a, ok := addrs[lab.HostName(ep.ID())]; ok {
			c.IPs = slices.Clone(a)
		}
		patched.Endpoints[i] = &c
	}
	e := eval.New(&patched, opts.Eval)

	s := &Setup{
		Engine:      e,
		Ports:       ports,
		Skipped:     notes,
		byHost:      map[lab.HostName]*model.Endpoint{},
		byAddr:      map[netip.Addr]lab.HostName{},
		concurrency: opts.Concurrency,
	}
	byID := map[string]*model.Endpoint{}
	for _, ep := range e.Endpoints() {
		byID[ep.ID()] = ep
	}
	for i := range topo.Hosts {
		h := &topo.Hosts[i]
		h.Addrs = addrs[h.Name]
		s.byHost[h.Name] = byID[string(h.Name)]
	}
	for _, ep := range e.Endpoints() {
		if _, ok := addrs[lab.HostName(ep.ID())]; ok && ep.IsPodLike() {
			s.Pods = append(s.Pods, ep)
		}
	}

	// External hosts, per external range.
	avoid := slices.Concat(never, opts.Avoid)
	for _, n := range resolved.Nodes {
		avoid = append(avoid, n.PodCIDRs...)
	}
	avoidSet := model.IPsOf(nil, avoid...)
	perRange := 2
	if opts.OneExternalPerRange {
		perRange = 1
	}
	for _, ep := range e.Endpoints() {
		if ep.Kind != model.EndpointExternal {
			continue
		}
		picks := representatives(ep.External, avoidSet, perRange)
		if len(picks) == 0 {
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s: an external range with no address the lab can use", ep.ID()))
			continue
		}
		for _, as := range picks {
			name := lab.HostName(joinAddrs(as))
			topo.External = append(topo.External, lab.Host{Name: name, Addrs: as})
			s.Externals = append(s.Externals, External{Host: name, Endpoint: ep})
			s.byHost[name] = ep
		}
	}
	for i := range topo.External {
		for _, p := range ports {
			topo.External[i].Ports = append(topo.External[i].Ports, model.ContainerPort{Protocol: p.Protocol, Port: p.Port})
		}
	}
	for _, ep := range e.Endpoints() {
		if ep.Kind == model.EndpointNode {
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s: a node; the lab builds no nodes, so nothing probes node addresses", ep.ID()))
		}
	}
	s.input = topo
	if s.Topology, err = topo.Resolve(); err != nil {
		return nil, fmt.Errorf("laying out the lab: %w", err)
	}
	for _, hs := range [][]lab.Host{s.Topology.Hosts, s.Topology.External} {
		for _, h := range hs {
			for _, a := range h.Addrs {
				s.byAddr[a] = h.Name
			}
		}
	}
	return s, nil
}

// representatives returns up to n hosts' addresses for an external range:
// its first usable address, then its last, per family, within the first
// pool the range reaches; a host gets one address of each family the
// range has.
func representatives(r model.IPSet, avoid model.IPSet, n int) [][]netip.Addr {
	var fam [2][]netip.Addr
	for f := range pools {
		for _, p := range pools[f] {
			c := r.Intersect(model.IPBlock(p)).Subtract(avoid)
			if c.IsEmpty() {
				continue
			}
			rs := c.Ranges()
			first, last := rs[0].From(), rs[len(rs)-1].To()
			fam[f] = append(fam[f], first)
			if n > 1 && last != first {
				fam[f] = append(fam[f], last)
			}
			break
		}
	}
	var out [][]netip.Addr
	for i := range max(len(fam[0]), len(fam[1])) {
		var as []netip.Addr
		for f := range fam {
			if i < len(fam[f]) {
				as = append(as, fam[f][i])
			}
		}
		out = append(out, as)
	}
	return out
}

func joinAddrs(as []netip.Addr) string {
	s := ""
	for i, a := range as {
		if i > 0 {
			s += ","
		}
		s += a.String()
	}
	return s
}

// Endpoint returns the engine's endpoint a lab host stands for: the pod
// or workload it is, or the external range its addresses belong to.
func (s *Setup) Endpoint(h lab.HostName) *model.Endpoint { return s.byHost[h] }

// HostOf returns the lab host that has address a.
func (s *Setup) HostOf(a netip.Addr) (lab.HostName, bool) {
	h, ok := s.byAddr[a.Unmap()]
	return h, ok
}

// Local returns the engine's endpoints that run on node: what the node
// agent there compiles rules for.
func (s *Setup) Local(node string) []*model.Endpoint {
	var out []*model.Endpoint
	for _, h := range s.Topology.Hosts {
		if h.Node == node {
			out = append(out, s.byHost[h.Name])
		}
	}
	return out
}

// Nodes returns the names of the lab's nodes.
func (s *Setup) Nodes() []string {
	var out []string
	for _, n := range s.Topology.Nodes {
		out = append(out, n.Name)
	}
	return out
}
