package labrun

import (
	"slices"

	"github.com/bulkhead/bulkhead/model"
)

// MaxDefaultPorts bounds DefaultPorts: every host listens on every probed
// port and every pair of hosts is probed on each, so the lab's cost grows
// with the port count.
const MaxDefaultPorts = 64

// closedCandidates are ports DefaultPorts tries, in order, for the port of
// each protocol that nothing declares or names.
var closedCandidates = []uint16{9, 7, 13, 19, 37, 79, 113, 1999, 4999, 39999}

// DefaultPorts returns the ports worth probing for snap, sorted: every
// port a pod or workload declares; for every port range a policy rule
// names by number, its first and last port and the ports just outside it
// (so that an off-by-one at an endPort or a range's edge shows); and, for
// each protocol, one more port that is neither declared nor an edge, so
// that rules allowing a whole protocol, or other ports of it, meet a port
// no named-port or single-port rule covers. Named
// ports need nothing more: they resolve to declared ports. When that
// makes more than MaxDefaultPorts, the declared and unnamed ports are
// kept and the policies' edge ports are cut from the end.
func DefaultPorts(snap *model.Snapshot) []Port {
	seen := map[Port]bool{}
	var declared, edges []Port
	add := func(list *[]Port, p Port) {
		if !seen[p] {
			seen[p] = true
			*list = append(*list, p)
		}
	}
	for _, ep := range snap.Endpoints {
		if ep.IsPodLike() {
			for _, cp := range ep.Ports {
				if cp.Port != 0 && cp.Protocol >= model.TCP && cp.Protocol <= model.SCTP {
					add(&declared, Port{cp.Protocol, cp.Port})
				}
			}
		}
	}
	for _, pol := range snap.Policies {
		for _, r := range pol.Rules {
			for _, ps := range r.Ports {
				if ps.Name != "" || ps.Ports.IsFull() || ps.Protocol < model.TCP || ps.Protocol > model.SCTP {
					continue
				}
				for _, rg := range ps.Ports.Ranges() {
					for _, p := range []int{int(rg.First) - 1, int(rg.First), int(rg.Last), int(rg.Last) + 1} {
						if p >= 1 && p <= 65535 {
							add(&edges, Port{ps.Protocol, uint16(p)})
						}
					}
				}
			}
		}
	}
	var closed []Port
	for _, proto := range model.Protocols {
		for _, c := range closedCandidates {
			p := Port{proto, c}
			if !seen[p] {
				seen[p] = true
				closed = append(closed, p)
				break
			}
		}
	}
	out := slices.Concat(declared, closed)
	if room := MaxDefaultPorts - len(out); room > 0 {
		out = append(out, edges[:min(room, len(edges))]...)
	}
	slices.SortFunc(out, comparePorts)
	return out
}
