package lint

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
)

// namedPortUnserved reports named ports that no destination pod declares.
type namedPortUnserved struct{}

func (namedPortUnserved) Info() Info {
	return Info{
		ID: "BH-LINT-003", Name: "named-port-unserved", Severity: model.SeverityWarning,
		Summary: "A rule names a port that no pod it can reach declares, so that port allows nothing.",
		Doc: `A named port (port: http) resolves on each destination pod to the
container ports with that name (and, for NetworkPolicy, that protocol, TCP
by default). When none of the rule's possible destinations declares it
(for ingress, the pods the policy selects; for egress, the pods the rule's
peers match), the port allows nothing, and the traffic its author meant to
allow is denied.

A classic case is a DNS rule naming port dns without protocol: UDP: the
cluster DNS declares dns as UDP, so the TCP default matches nothing. The
message says when a destination declares the name with another protocol.`,
		Fix:            "Name the container port in the pod template, fix the name or protocol in the rule, or use the port number.",
		NeedsWorkloads: true,
	}
}

func (namedPortUnserved) Run(c *Context) []Finding {
	var out []Finding
	for _, pol := range c.Engine.Policies() {
		for ri := range pol.Rules {
			r := &pol.Rules[ri]
			if !r.HasNamedPorts() {
				continue
			}
			dsts := c.RuleDestinations(pol, r)
			if len(dsts) == 0 {
				continue
			}
			for k, ps := range r.Ports {
				if ps.Name == "" {
					continue
				}
				served, other := false, ""
				for _, d := range dsts {
					if !d.ResolveNamedPort(ps.Name, ps.Protocol).IsEmpty() {
						served = true
						break
					}
					if other == "" && ps.Protocol != model.ProtocolUnknown {
						if anyProto := d.ResolveNamedPort(ps.Name, model.ProtocolUnknown); !anyProto.IsEmpty() {
							other = fmt.Sprintf("%s declares %s as %s", d.ID(), ps.Name, anyProto)
						}
					}
				}
				if served {
					continue
				}
				whose := "the policy selects"
				if r.Direction == model.Egress {
					whose = "this rule's peers match"
				}
				msg := fmt.Sprintf("%s: %s is declared by none of the %d pods %s (%s)", r.Ref(), ps, len(dsts), whose, c.idList(dsts, 3))
				if len(dsts) == 1 {
					msg = fmt.Sprintf("%s: %s is not declared by %s, the only pod %s", r.Ref(), ps, dsts[0].ID(), whose)
				}
				fix := fmt.Sprintf("Declare a container port named %q in the pod template of the destinations, or use the port number.", ps.Name)
				if other != "" {
					msg += "; " + other
					fix = "Set the rule's protocol to the one the container port declares."
				}
				out = append(out, Finding{Subject: pol.Ref(), Object: pol.Source, Path: portPath(pol, r, k), Key: ps.String(), Msg: msg, Fix: fix})
			}
		}
	}
	return out
}
