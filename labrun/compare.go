package labrun

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/lab"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
)

// Probes returns every probe of the lab, in a fixed order: from each host
// to each host, itself included, on every port, over each address family
// both have. Probes between two external hosts are left out: no policy
// governs them.
func (s *Setup) Probes() []lab.ProbeSpec {
	all := slices.Concat(s.Topology.Hosts, s.Topology.External)
	external := func(i int) bool { return i >= len(s.Topology.Hosts) }
	var out []lab.ProbeSpec
	for i, src := range all {
		for j, dst := range all {
			if external(i) && external(j) {
				continue
			}
			for _, p := range s.Ports {
				for _, a := range dst.Addrs {
					if src.Addr(a.Is6()).IsValid() {
						out = append(out, lab.ProbeSpec{Src: src.Name, Dst: a, Protocol: p.Protocol, Port: p.Port})
					}
				}
			}
		}
	}
	return out
}

// Mismatch is a probe whose outcome the engine did not predict.
type Mismatch struct {
	Src, Dst         *model.Endpoint
	SrcHost, DstHost lab.HostName
	// DstAddr is the address probed; SrcAddr the source's address of its
	// family.
	SrcAddr, DstAddr netip.Addr
	Port             Port
	// Engine is true when the engine allows the connection.
	Engine bool
	// Wire is what the probe saw; only Connected means allowed.
	Wire lab.Outcome
	// Decision is the engine's explanation for this port alone.
	Decision *eval.Decision
}

// Report is the outcome of probing a lab: the wire's truth table, and how
// it compares with the engine.
type Report struct {
	// Matrix is the truth table the wire showed between pods, in the
	// shape of `bulkhead matrix`: a cell is allowed when every probe of
	// it (one per address family) connected.
	Matrix *render.Matrix
	// Mismatches are the probes whose outcome differs from the engine's
	// decision, sorted by source, destination, port and address.
	Mismatches []Mismatch
	// Probes is the number of probes made, Connected those that
	// connected.
	Probes, Connected int
	// Compared counts the (source, destination, port) cells compared
	// with the engine. Unknown counts those the engine cannot decide
	// because they depend on domain names: probed, not compared.
	// Unprobed counts pairs with no address family in common.
	Compared, Unknown, Unprobed int
	// Errors are probes that could not be made at all.
	Errors []error
	// Reprobed counts probes that did not connect although the engine
	// allows them and that Probe made again, at low concurrency, before
	// comparing; Recovered counts those that then connected. On a loaded
	// machine a probe can time out twice for want of CPU; a connection,
	// on the other hand, is proof, so only this side is tried again.
	Reprobed, Recovered int
	// SelfFailures are probes from a host to itself that did not connect.
	// Such traffic never leaves the host and passes no rule, so a failure
	// means the lab is not the one described (another lab, other ports)
	// or is broken: the other cells cannot be trusted.
	SelfFailures []lab.Result
}

// OK reports whether the wire agreed with the engine everywhere it was
// compared and every probe could be made.
func (r *Report) OK() bool {
	return len(r.Mismatches) == 0 && len(r.Errors) == 0 && len(r.SelfFailures) == 0
}

type cellKey struct {
	src, dst lab.HostName
	port     Port
}

// Compare compares the results of the lab's probes (as ProbeAll returns
// them for Probes) with the engine, and builds the wire's truth table.
func (s *Setup) Compare(results []lab.Result) *Report {
	r := &Report{Probes: len(results)}
	podIndex := map[*model.Endpoint]int{}
	m := &render.Matrix{}
	for i, ep := range s.Pods {
		podIndex[ep] = i
		m.IDs = append(m.IDs, ep.ID())
	}
	portIndex := map[Port]int{}
	for i, p := range s.Ports {
		portIndex[p] = i
		m.Ports = append(m.Ports, p.String())
		cells := make([][]render.Cell, len(s.Pods))
		for j := range cells {
			cells[j] = make([]render.Cell, len(s.Pods))
		}
		m.Cells = append(m.Cells, cells)
	}
	r.Matrix = m

	// Group the results by cell, in order.
	groups := map[cellKey][]lab.Result{}
	var order []cellKey
	for _, res := range results {
		if res.Outcome == lab.Connected && res.Err == nil {
			r.Connected++
		}
		dst, ok := s.HostOf(res.Dst)
		if !ok {
			r.Errors = append(r.Errors, fmt.Errorf("probe %v: %s is no lab host's address", res.ProbeSpec, res.Dst))
			continue
		}
		k := cellKey{res.Src, dst, Port{res.Protocol, res.Port}}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], res)
	}

	for _, k := range order {
		rs := groups[k]
		src, dst := s.byHost[k.src], s.byHost[k.dst]
		if src == nil || dst == nil {
			r.Errors = append(r.Errors, fmt.Errorf("probe %v: no endpoint stands for host %q or %q", rs[0].ProbeSpec, k.src, k.dst))
			continue
		}
		wire, failed := true, false
		for _, res := range rs {
			if res.Err != nil {
				r.Errors = append(r.Errors, res.Err)
				failed = true
			}
			wire = wire && res.Allowed()
		}
		if failed {
			continue
		}
		si, sok := podIndex[src]
		di, dok := podIndex[dst]
		if pi, ok := portIndex[k.port]; ok && sok && dok && wire {
			m.Cells[pi][si][di] = render.Allowed
		}
		if k.src == k.dst {
			for _, res := range rs {
				if !res.Allowed() {
					r.SelfFailures = append(r.SelfFailures, res)
				}
			}
			continue
		}
		allowed, unknown := s.Engine.Allowed(src, dst)
		if unknown.Contains(k.port.Protocol, k.port.Port) {
			r.Unknown++
			continue
		}
		r.Compared++
		engine := allowed.Contains(k.port.Protocol, k.port.Port)
		var d *eval.Decision
		for _, res := range rs {
			if res.Allowed() == engine {
				continue
			}
			if d == nil {
				d = s.Engine.Explain(src, dst, model.ConnsOf(k.port.Protocol, model.SinglePort(k.port.Port)))
			}
			srcHost, _ := s.Topology.Host(k.src)
			r.Mismatches = append(r.Mismatches, Mismatch{
				Src: src, Dst: dst, SrcHost: k.src, DstHost: k.dst,
				SrcAddr: srcHost.Addr(res.Dst.Is6()), DstAddr: res.Dst,
				Port: k.port, Engine: engine, Wire: res.Outcome, Decision: d,
			})
		}
	}
	r.Unprobed = s.unprobed()
	slices.SortFunc(r.Mismatches, func(a, b Mismatch) int {
		return cmp.Or(
			cmp.Compare(a.Src.ID(), b.Src.ID()), cmp.Compare(a.SrcHost, b.SrcHost),
			cmp.Compare(a.Dst.ID(), b.Dst.ID()), cmp.Compare(a.DstHost, b.DstHost),
			comparePorts(a.Port, b.Port), a.DstAddr.Compare(b.DstAddr))
	})
	return r
}

// Doubtful returns the indexes of the results that did not connect
// although the engine allows the connection (a host reaching itself
// included): the ones worth trying again before calling them mismatches.
func (s *Setup) Doubtful(results []lab.Result) []int {
	var out []int
	for i, res := range results {
		if res.Allowed() || res.Err != nil {
			continue
		}
		dst, ok := s.HostOf(res.Dst)
		if !ok {
			continue
		}
		src, d := s.byHost[res.Src], s.byHost[dst]
		if src == nil || d == nil {
			continue
		}
		if allowed, _ := s.Engine.Allowed(src, d); src == d || allowed.Contains(res.Protocol, res.Port) {
			out = append(out, i)
		}
	}
	return out
}

// unprobed counts the host pairs Probes leaves out for want of a common
// address family, per port.
func (s *Setup) unprobed() int {
	all := slices.Concat(s.Topology.Hosts, s.Topology.External)
	n := 0
	for i, src := range all {
		for j, dst := range all {
			if i >= len(s.Topology.Hosts) && j >= len(s.Topology.Hosts) {
				continue
			}
			common := false
			for _, a := range dst.Addrs {
				common = common || src.Addr(a.Is6()).IsValid()
			}
			if !common {
				n += len(s.Ports)
			}
		}
	}
	return n
}
