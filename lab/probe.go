package lab

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/bulkhead/bulkhead/model"
)

// DefaultProbeTimeout bounds each try of a probe whose ProbeSpec has no
// Timeout. A dropped flow costs two of them (a timeout is confirmed by a
// second try); an allowed one answers in well under a millisecond inside
// the lab, so the margin only guards against a loaded machine.
const DefaultProbeTimeout = 500 * time.Millisecond

// DefaultConcurrency is ProbeAll's number of probes in flight when the
// caller gives none.
const DefaultConcurrency = 1024

// Outcome is what a probe saw.
type Outcome uint8

const (
	OutcomeUnknown Outcome = iota
	// Connected: the TCP handshake completed, the UDP echo came back with
	// the probe's nonce, or an SCTP INIT ACK came back with the probe's
	// verification tag. The only outcome that means "allowed".
	Connected
	// Refused: a TCP RST, an ICMP port or protocol unreachable, or an
	// SCTP ABORT. Nothing listens there, or a rule rejects the flow.
	Refused
	// Unreachable: an ICMP network, host or administratively prohibited
	// unreachable, or no route.
	Unreachable
	// TimedOut: no answer before the timeout, as when a rule drops the
	// flow.
	TimedOut
)

func (o Outcome) String() string {
	switch o {
	case Connected:
		return "connected"
	case Refused:
		return "refused"
	case Unreachable:
		return "unreachable"
	case TimedOut:
		return "timeout"
	}
	return "unknown"
}

// ProbeSpec is one connection attempt: from host Src to Dst, an address of
// a lab host, on Protocol and Port.
type ProbeSpec struct {
	Src      HostName
	Dst      netip.Addr
	Protocol model.Protocol
	Port     uint16
	// Timeout bounds each try; zero means DefaultProbeTimeout. The
	// context's deadline, when earlier, bounds it too.
	Timeout time.Duration
}

func (s ProbeSpec) String() string {
	return fmt.Sprintf("%s -> %s %v", s.Src, netip.AddrPortFrom(s.Dst, s.Port), s.Protocol)
}

// Result is the outcome of one ProbeSpec. Err is set when the probe could
// not be made at all (unknown source, no address of the destination's
// family, canceled context, socket failure); Outcome is then
// OutcomeUnknown.
type Result struct {
	ProbeSpec
	Outcome Outcome
	Err     error
	// Elapsed is the time the probe took, over both tries when it had two.
	Elapsed time.Duration
	// Tries is 2 when the first try timed out and the probe was made again
	// (see Lab.ProbeAll); the outcome is the second try's.
	Tries int
}

// Allowed reports whether the probe connected.
func (r Result) Allowed() bool { return r.Outcome == Connected && r.Err == nil }

// AllProbes returns, for a resolved topology, a probe from every host
// (pods and external hosts) to every address of every host that the
// source has an address family for, on each declared port of the
// destination: the full connectivity matrix, including each host to
// itself.
func (t Topology) AllProbes() []ProbeSpec {
	all := append(append([]Host(nil), t.Hosts...), t.External...)
	var out []ProbeSpec
	for _, src := range all {
		for _, dst := range all {
			for _, a := range dst.Addrs {
				if !src.Addr(a.Is6()).IsValid() {
					continue
				}
				for _, p := range dst.Ports {
					out = append(out, ProbeSpec{Src: src.Name, Dst: a, Protocol: p.Protocol, Port: p.Port})
				}
			}
		}
	}
	return out
}

func (r Result) String() string {
	if r.Err != nil {
		return r.Err.Error()
	}
	return fmt.Sprintf("%v: %v", r.ProbeSpec, r.Outcome)
}
