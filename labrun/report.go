package labrun

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
)

func verdict(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "denied"
}

// String formats the mismatch on one line:
// "a/x -> b/y (10.244.1.2) 80/TCP: engine says allowed, wire says timeout".
func (m Mismatch) String() string {
	return fmt.Sprintf("%s -> %s %s: engine says %s, wire says %s",
		hostRef(m.Src, m.SrcAddr), hostRef(m.Dst, m.DstAddr), m.Port, verdict(m.Engine), m.Wire)
}

// hostRef names an endpoint with the address a probe used: "ns/pod
// (10.244.0.2)", or "203.0.113.0 in 203.0.113.0/25" for an external host.
func hostRef(ep *model.Endpoint, a netip.Addr) string {
	if ep.Kind == model.EndpointExternal {
		return a.String() + " in " + ep.ID()
	}
	return ep.ID() + " (" + a.String() + ")"
}

// WriteText writes the report for people: every mismatch with the
// engine's flow on both sides, probe errors, self-check failures, what
// was skipped, and a summary line. It does not write the truth table;
// render.WriteMatrix does, from r.Matrix.
func (r *Report) WriteText(w io.Writer, s *Setup) error {
	bw := bufio.NewWriter(w)
	for _, m := range r.Mismatches {
		fmt.Fprintf(bw, "MISMATCH %s\n", m)
		d := m.Decision
		fmt.Fprintf(bw, "  egress of %s: %s\n", d.Egress.Endpoint.ID(), orNone(render.Flow(d.Egress)))
		fmt.Fprintf(bw, "  ingress of %s: %s\n", d.Ingress.Endpoint.ID(), orNone(render.Flow(d.Ingress)))
		if explained := d.Allowed.Contains(m.Port.Protocol, m.Port.Port); explained != m.Engine {
			fmt.Fprintf(bw, "  note: the engine's Explain says %s but its tables say %s: an engine inconsistency\n", verdict(explained), verdict(m.Engine))
		}
	}
	for _, f := range r.SelfFailures {
		fmt.Fprintf(bw, "SELF-CHECK FAILED %v: %v (a host always reaches itself; is this the lab that was brought up, with the same manifests and flags?)\n", f.ProbeSpec, f.Outcome)
	}
	for _, err := range r.Errors {
		fmt.Fprintf(bw, "PROBE ERROR %v\n", err)
	}
	for _, note := range s.Skipped {
		fmt.Fprintf(bw, "skipped: %s\n", note)
	}
	fmt.Fprintf(bw, "%d probes (%d connected) between %d pods on %d nodes and %d external hosts, on %d ports: %d cells compared with the engine, %d mismatches",
		r.Probes, r.Connected, len(s.Topology.Hosts), len(s.Topology.Nodes), len(s.Topology.External), len(s.Ports), r.Compared, len(r.Mismatches))
	if r.Unknown > 0 {
		fmt.Fprintf(bw, ", %d depend on domain names (not compared)", r.Unknown)
	}
	if r.Unprobed > 0 {
		fmt.Fprintf(bw, ", %d with no address family in common (not probed)", r.Unprobed)
	}
	if n := len(r.Errors) + len(r.SelfFailures); n > 0 {
		fmt.Fprintf(bw, ", %d probes failed", n)
	}
	bw.WriteString("\n")
	if r.Reprobed > 0 {
		fmt.Fprintf(bw, "note: %d probes that failed where the engine allows them were made again, a few at a time; %d then connected\n", r.Reprobed, r.Recovered)
	}
	return bw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "no policy applies"
	}
	return s
}

// WriteLayout writes the lab's layout for people: its prefix and size,
// each pod with its node and addresses, each external host with the range
// it stands for, and the probed ports.
func (s *Setup) WriteLayout(w io.Writer) error {
	bw := bufio.NewWriter(w)
	t := s.Topology
	fmt.Fprintf(bw, "lab %s: %d nodes, %d pods, %d external hosts, %d ports\n", t.Prefix, len(t.Nodes), len(t.Hosts), len(t.External), len(s.Ports))
	for _, h := range t.Hosts {
		fmt.Fprintf(bw, "  pod       %-42s %-8s %s\n", h.Name, h.Node, joinAddrs(h.Addrs))
	}
	for _, x := range s.Externals {
		h, _ := t.Host(x.Host)
		fmt.Fprintf(bw, "  external  %-42s in %s\n", joinAddrs(h.Addrs), x.Endpoint.ID())
	}
	bw.WriteString("  ports    ")
	for _, p := range s.Ports {
		bw.WriteString(" " + p.String())
	}
	bw.WriteString("\n")
	for _, note := range s.Skipped {
		fmt.Fprintf(bw, "  skipped   %s\n", note)
	}
	return bw.Flush()
}
