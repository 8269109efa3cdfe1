package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/bulkhead/bulkhead/model"
)

// DefaultPrefix starts the names of a lab's network namespaces when the
// Topology sets no Prefix.
const DefaultPrefix = "bh-"

// MaxNodes is the largest number of nodes a lab can have: each node's
// transit address is 169.254.2.<index+1>.
const MaxNodes = 250

// HostName names a host of a Topology: a pod ("shop/web-0") or an external
// host. Names are unique across pods and external hosts.
type HostName string

// Topology describes a lab: nodes, the pods on them, and hosts outside the
// cluster. It is a plain value; Resolve validates it and fills in what was
// left to defaults, and Plan turns it into the kernel objects Up creates.
type Topology struct {
	// Prefix starts the name of every network namespace the lab creates,
	// so that Cleanup(Prefix) finds them after a crash. Empty means
	// DefaultPrefix. Labs that run at the same time need prefixes that do
	// not start with one another.
	Prefix string
	// Nodes lists the nodes. A node that a host names but Nodes does not
	// list is added after the listed ones, in order of first mention.
	Nodes []Node
	// Hosts are the pods, each on a node.
	Hosts []Host
	// External are hosts outside the cluster (Node empty), so that egress
	// to ipBlocks can be probed. They live in one "outside" namespace
	// linked to every node and reachable only through the nodes.
	External []Host
	// DualStack gives hosts that have no address an IPv6 address as well
	// as an IPv4 one. Hosts with addresses keep exactly those.
	DualStack bool
}

// Node is one node of a lab: a network namespace with a bridge for its
// pods and a routed link to every other node.
type Node struct {
	Name string
	// PodCIDRs are the node's pod subnets, at most one per family. When a
	// family's CIDR is set, the addresses of that family of the node's
	// hosts must lie in it; when it is not, hosts may have any address
	// (every pod address is routed as a host route), and hosts without an
	// address get one from 10.244.<i>.0/24 or fd00:10:244:<i>::/64, where
	// i is the node's index.
	PodCIDRs []netip.Prefix
}

// Host is a pod, or an external host, with its addresses and the ports it
// listens on.
type Host struct {
	Name HostName
	// Node is the node a pod runs on; it is empty for external hosts.
	Node string
	// Addrs are the host's addresses, at most one per family. A pod
	// without addresses gets one from its node's pod CIDR, an external
	// host one from 203.0.113.0/24 (TEST-NET-3) or 2001:db8:e::/64.
	Addrs []netip.Addr
	// Ports are the ports the host listens on, for TCP, UDP and SCTP.
	// Repeated protocol and port pairs are listened on once.
	Ports []model.ContainerPort
}

// Addr returns h's IPv6 address if v6 is true and its IPv4 address
// otherwise, or the zero Addr when h has none of that family.
func (h Host) Addr(v6 bool) netip.Addr {
	for _, a := range h.Addrs {
		if a.Is6() == v6 {
			return a
		}
	}
	return netip.Addr{}
}

// Default ranges for assigned addresses. The external ranges are
// documentation ranges (RFC 5737, RFC 3849) that never route anywhere;
// 192.0.2.0/24 is avoided because test machines use it for real.
var (
	defaultExternal4 = netip.MustParsePrefix("203.0.113.0/24")
	defaultExternal6 = netip.MustParsePrefix("2001:db8:e::/64")
	reserved4        = netip.MustParsePrefix("169.254.0.0/16")
	thisNetwork4     = netip.MustParsePrefix("0.0.0.0/8")
)

func defaultPodCIDR(i int, v6 bool) netip.Prefix {
	if v6 {
		return netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, 0, 0, 0x10, 0x02, 0x44, 0, byte(i)}), 64)
	}
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i), 0}), 24)
}

// Resolve checks t and returns it with every default filled in: the
// prefix, the implicit nodes, each node's two pod CIDRs (the given ones or
// the defaults), each host's addresses (given or assigned) and its ports
// sorted by protocol and number without repeats. Assignment is
// deterministic: hosts are served in order, each getting the first free
// address of its node's CIDR after the subnet's first two (so a
// Topology resolves the same way in every process).
//
// The error joins every problem found, each naming the node or host and
// the field; the returned Topology is then incomplete and must not be
// used.
func (t Topology) Resolve() (Topology, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	r := Topology{Prefix: t.Prefix, DualStack: t.DualStack}
	if r.Prefix == "" {
		r.Prefix = DefaultPrefix
	}
	if err := ValidatePrefix(r.Prefix); err != nil {
		errs = append(errs, err)
	}

	// Nodes: listed ones first, then implicit ones.
	nodeIndex := map[string]int{}
	for i, n := range t.Nodes {
		switch {
		case n.Name == "":
			fail("node[%d]: name is empty", i)
			continue
		case nodeIndex[n.Name] != 0:
			fail("node[%d] %q: name repeats node[%d]", i, n.Name, nodeIndex[n.Name]-1)
			continue
		}
		nodeIndex[n.Name] = len(r.Nodes) + 1
		r.Nodes = append(r.Nodes, Node{Name: n.Name, PodCIDRs: slices.Clone(n.PodCIDRs)})
	}
	for _, h := range t.Hosts {
		if h.Node != "" && nodeIndex[h.Node] == 0 {
			nodeIndex[h.Node] = len(r.Nodes) + 1
			r.Nodes = append(r.Nodes, Node{Name: h.Node})
		}
	}
	if len(r.Nodes) > MaxNodes {
		fail("%d nodes: a lab has at most %d", len(r.Nodes), MaxNodes)
		return Topology{}, errors.Join(errs...)
	}

	// Pod CIDRs: at most one per family, no overlap, defaults otherwise.
	explicit := make([][2]bool, len(r.Nodes))
	for i := range r.Nodes {
		n := &r.Nodes[i]
		var cidrs [2]netip.Prefix
		for j, p := range n.PodCIDRs {
			if !p.IsValid() {
				fail("node %q: podCIDRs[%d]: invalid prefix", n.Name, j)
				continue
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked()
			f := family(p.Addr())
			if explicit[i][f] {
				fail("node %q: podCIDRs[%d] %s: a second %s CIDR (at most one per family)", n.Name, j, p, familyName(f))
				continue
			}
			if err := checkUnicast(p.Addr()); err != nil {
				fail("node %q: podCIDRs[%d] %s: %v", n.Name, j, p, err)
				continue
			}
			if p.Overlaps(reserved4) {
				fail("node %q: podCIDRs[%d] %s: overlaps 169.254.0.0/16, which the lab uses for its gateways", n.Name, j, p)
				continue
			}
			cidrs[f] = p
			explicit[i][f] = true
		}
		for f := range cidrs {
			if !explicit[i][f] {
				cidrs[f] = defaultPodCIDR(i, f == 1)
			}
		}
		n.PodCIDRs = []netip.Prefix{cidrs[0], cidrs[1]}
	}
	for i := range r.Nodes {
		for j := range i {
			for f := range 2 {
				if explicit[i][f] && explicit[j][f] && r.Nodes[i].PodCIDRs[f].Overlaps(r.Nodes[j].PodCIDRs[f]) {
					fail("node %q: pod CIDR %s overlaps node %q's %s", r.Nodes[i].Name, r.Nodes[i].PodCIDRs[f], r.Nodes[j].Name, r.Nodes[j].PodCIDRs[f])
				}
			}
		}
	}

	// Hosts: names, nodes, given addresses and ports.
	owner := map[netip.Addr]HostName{}
	names := map[HostName]bool{}
	check := func(kind string, i int, h Host, external bool) Host {
		out := Host{Name: h.Name, Node: h.Node}
		what := fmt.Sprintf("%s %q", kind, h.Name)
		switch {
		case h.Name == "":
			what = fmt.Sprintf("%s[%d]", kind, i)
			fail("%s: name is empty", what)
		case names[h.Name]:
			fail("%s: name repeats another host's", what)
		}
		names[h.Name] = true
		switch {
		case external && h.Node != "":
			fail("%s: node %q: external hosts are on no node", what, h.Node)
		case !external && h.Node == "":
			fail("%s: node is empty", what)
		}
		var seen [2]bool
		for j, a := range h.Addrs {
			a = a.Unmap()
			if err := checkUnicast(a); err != nil {
				fail("%s: addrs[%d] %s: %v", what, j, a, err)
				continue
			}
			f := family(a)
			if seen[f] {
				fail("%s: addrs[%d] %s: a second %s address (at most one per family)", what, j, a, familyName(f))
				continue
			}
			seen[f] = true
			if other, ok := owner[a]; ok {
				fail("%s: addrs[%d] %s: also the address of %q", what, j, a, other)
				continue
			}
			owner[a] = h.Name
			if !external && nodeIndex[h.Node] != 0 {
				ni := nodeIndex[h.Node] - 1
				if explicit[ni][f] && !r.Nodes[ni].PodCIDRs[f].Contains(a) {
					fail("%s: addrs[%d] %s: outside node %q's pod CIDR %s", what, j, a, h.Node, r.Nodes[ni].PodCIDRs[f])
				}
			}
			if external {
				for _, n := range r.Nodes {
					if n.PodCIDRs[f].Contains(a) {
						fail("%s: addrs[%d] %s: inside node %q's pod CIDR %s (external hosts are outside the pod ranges)", what, j, a, n.Name, n.PodCIDRs[f])
					}
				}
			}
			out.Addrs = append(out.Addrs, a)
		}
		for j, p := range h.Ports {
			switch {
			case p.Protocol != model.TCP && p.Protocol != model.UDP && p.Protocol != model.SCTP:
				fail("%s: ports[%d]: protocol %v: want TCP, UDP or SCTP", what, j, p.Protocol)
				continue
			case p.Port == 0:
				fail("%s: ports[%d]: port 0", what, j)
				continue
			}
			if !slices.ContainsFunc(out.Ports, func(q model.ContainerPort) bool { return q.Protocol == p.Protocol && q.Port == p.Port }) {
				out.Ports = append(out.Ports, p)
			}
		}
		slices.SortFunc(out.Ports, func(a, b model.ContainerPort) int {
			if a.Protocol != b.Protocol {
				return int(a.Protocol) - int(b.Protocol)
			}
			return int(a.Port) - int(b.Port)
		})
		return out
	}
	for i, h := range t.Hosts {
		r.Hosts = append(r.Hosts, check("host", i, h, false))
	}
	for i, h := range t.External {
		r.External = append(r.External, check("external", i, h, true))
	}
	if len(errs) > 0 {
		return Topology{}, errors.Join(errs...)
	}

	// Assignment, once every given address is known.
	next := map[netip.Prefix]netip.Addr{}
	assign := func(h *Host, cidr netip.Prefix) error {
		a, ok := next[cidr]
		if !ok {
			a = cidr.Addr().Next().Next()
		}
		for ; cidr.Contains(a); a = a.Next() {
			if _, used := owner[a]; used || (a.Is4() && isBroadcast(a, cidr)) {
				continue
			}
			owner[a] = h.Name
			next[cidr] = a.Next()
			h.Addrs = append(h.Addrs, a)
			return nil
		}
		return fmt.Errorf("host %q: no free address left in %s", h.Name, cidr)
	}
	for i := range r.Hosts {
		h := &r.Hosts[i]
		if len(h.Addrs) > 0 {
			continue
		}
		n := r.Nodes[nodeIndex[h.Node]-1]
		if err := assign(h, n.PodCIDRs[0]); err != nil {
			errs = append(errs, err)
		}
		if r.DualStack {
			if err := assign(h, n.PodCIDRs[1]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for i := range r.External {
		h := &r.External[i]
		if len(h.Addrs) > 0 {
			continue
		}
		if err := assign(h, defaultExternal4); err != nil {
			errs = append(errs, err)
		}
		if r.DualStack {
			if err := assign(h, defaultExternal6); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return Topology{}, errors.Join(errs...)
	}
	return r, nil
}

// Host returns the host (pod or external) called name.
func (t Topology) Host(name HostName) (Host, bool) {
	if h := t.host(name); h != nil {
		return *h, true
	}
	return Host{}, false
}

func (t *Topology) host(name HostName) *Host {
	for _, hs := range [][]Host{t.Hosts, t.External} {
		for i := range hs {
			if hs[i].Name == name {
				return &hs[i]
			}
		}
	}
	return nil
}

// HostByAddr returns the host that has address a.
func (t Topology) HostByAddr(a netip.Addr) (Host, bool) {
	a = a.Unmap()
	for _, hs := range [][]Host{t.Hosts, t.External} {
		for _, h := range hs {
			if slices.Contains(h.Addrs, a) {
				return h, true
			}
		}
	}
	return Host{}, false
}

// Clone returns a deep copy of t.
func (t Topology) Clone() Topology {
	c := t
	c.Nodes = slices.Clone(t.Nodes)
	for i := range c.Nodes {
		c.Nodes[i].PodCIDRs = slices.Clone(c.Nodes[i].PodCIDRs)
	}
	c.Hosts, c.External = cloneHosts(t.Hosts), cloneHosts(t.External)
	return c
}

func cloneHosts(hs []Host) []Host {
	out := slices.Clone(hs)
	for i := range out {
		out[i].Addrs = slices.Clone(out[i].Addrs)
		out[i].Ports = slices.Clone(out[i].Ports)
	}
	return out
}

// ValidatePrefix reports whether p can start a lab's namespace names: 1 to
// 32 letters, digits, '.', '_' or '-'. Cleanup refuses anything else, so
// that it can never match every namespace on the machine.
func ValidatePrefix(p string) error {
	if p == "" || len(p) > 32 {
		return fmt.Errorf("prefix %q: want 1 to 32 characters", p)
	}
	for _, c := range p {
		if !isNameChar(c) {
			return fmt.Errorf("prefix %q: character %q: want letters, digits, '.', '_' or '-'", p, c)
		}
	}
	return nil
}

func isNameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// checkUnicast rejects addresses a host cannot have in the lab.
func checkUnicast(a netip.Addr) error {
	switch {
	case !a.IsValid():
		return errors.New("invalid address")
	case a.IsUnspecified():
		return errors.New("unspecified address")
	case a.IsLoopback():
		return errors.New("loopback address")
	case a.IsMulticast():
		return errors.New("multicast address")
	case a.IsLinkLocalUnicast():
		return errors.New("link-local address (the lab uses 169.254.0.0/16 and fe80::/10 for its gateways)")
	case a.Is4() && (thisNetwork4.Contains(a) || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})):
		return errors.New("not a host address")
	case a.Zone() != "":
		return errors.New("address with a zone")
	}
	return nil
}

func isBroadcast(a netip.Addr, p netip.Prefix) bool {
	return p.Bits() < 31 && a == netipx.PrefixLastIP(p)
}

// family returns 0 for IPv4 and 1 for IPv6, the index into per-family
// pairs.
func family(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

func familyName(f int) string {
	if f == 0 {
		return "IPv4"
	}
	return "IPv6"
}

// sanitize turns a node or host name into characters a namespace name can
// hold.
func sanitize(s string) string {
	var b strings.Builder
	for _, c := range s {
		if isNameChar(c) {
			b.WriteRune(c)
		} else {
			b.WriteByte('.')
		}
	}
	out := b.String()
	if len(out) > 64 {
		out = out[:64]
	}
	return out
}
