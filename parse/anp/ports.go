package anp

import (
	"fmt"
	"strings"

	"github.com/bulkhead/bulkhead/model"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/network-policy-api/apis/v1alpha1"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// namedPort records a named port of a rule, for the check that named
// ports and networks/nodes/domainNames peers do not meet in one rule.
type namedPort struct {
	path string // relative to the rule, e.g. "ports[1].namedPort"
	name string
}

// anpPorts converts the ports of a v1alpha1 rule. Absent ports match
// every connection ("If Ports is not set then the rule does not filter
// traffic via port"); a present list must have 1 to 100 items, each with
// exactly one of portNumber, namedPort and portRange.
func (c *converter) anpPorts(path string, ports *[]v1alpha1.AdminNetworkPolicyPort) ([]model.PortSpec, []namedPort) {
	if ports == nil {
		return nil, nil
	}
	if len(*ports) == 0 {
		c.errorf(path, "must list at least one port when set; omit ports to match every port")
		return nil, nil
	}
	c.maxItems(path, len(*ports), c.d.maxItems, "ports")
	var specs []model.PortSpec
	var named []namedPort
	for i, p := range *ports {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		set := setFields([]string{"portNumber", "namedPort", "portRange"}, p.PortNumber != nil, p.NamedPort != nil, p.PortRange != nil)
		if len(set) != 1 {
			c.errorf(ipath, "exactly one of portNumber, namedPort, portRange must be set, %s", describeSet(set))
			continue
		}
		switch {
		case p.PortNumber != nil:
			proto := c.protocol(ipath+".portNumber.protocol", p.PortNumber.Protocol)
			n, ok := c.portNumber(ipath+".portNumber.port", p.PortNumber.Port)
			if proto != model.ProtocolUnknown && ok {
				specs = append(specs, model.PortSpec{Protocol: proto, Ports: model.SinglePort(n)})
			}
		case p.PortRange != nil:
			proto := c.protocol(ipath+".portRange.protocol", p.PortRange.Protocol)
			r, ok := c.portRange(ipath+".portRange", p.PortRange.Start, p.PortRange.End)
			if proto != model.ProtocolUnknown && ok {
				specs = append(specs, model.PortSpec{Protocol: proto, Ports: model.PortsOf(r)})
			}
		default:
			// A named port matches by name alone, whatever the protocol
			// of the container port that declares it.
			specs = append(specs, model.PortSpec{Name: *p.NamedPort})
			named = append(named, namedPort{path: fmt.Sprintf("ports[%d].namedPort", i), name: *p.NamedPort})
		}
	}
	return specs, named
}

// protocol converts a v1alpha1 protocol. The field "defaults to TCP"
// (+kubebuilder:default=TCP), so an empty value is TCP. The schema has no
// enum, but the field is documented as "TCP, UDP, or SCTP" and nothing
// else can be enforced.
func (c *converter) protocol(path string, p corev1.Protocol) model.Protocol {
	switch p {
	case "", corev1.ProtocolTCP:
		return model.TCP
	case corev1.ProtocolUDP:
		return model.UDP
	case corev1.ProtocolSCTP:
		return model.SCTP
	}
	msg := fmt.Sprintf("unsupported value %q: supported values: \"TCP\", \"UDP\", \"SCTP\"", p)
	if up := corev1.Protocol(strings.ToUpper(string(p))); up == corev1.ProtocolTCP || up == corev1.ProtocolUDP || up == corev1.ProtocolSCTP {
		msg += " (protocols are case-sensitive)"
	}
	c.errorf(path, "%s", msg)
	return model.ProtocolUnknown
}

// portNumber checks Minimum=1, Maximum=65535.
func (c *converter) portNumber(path string, n int32) (uint16, bool) {
	if n < model.MinPort || n > model.MaxPort {
		c.errorf(path, "must be between %d and %d, got %d", model.MinPort, model.MaxPort, n)
		return 0, false
	}
	return uint16(n), true
}

// portRange checks a range's bounds. Start must be less than end: the
// ClusterNetworkPolicy CRDs enforce `self.start < self.end` with CEL
// ("Start port must be less than End port"), and the v1alpha1 field docs
// say "the Start value must be less than End". A one-port range is
// written as a port number instead.
func (c *converter) portRange(path string, start, end int32) (model.PortRange, bool) {
	s, okS := c.portNumber(path+".start", start)
	e, okE := c.portNumber(path+".end", end)
	if !okS || !okE {
		return model.PortRange{}, false
	}
	if s >= e {
		c.errorf(path, "start (%d) must be less than end (%d)", s, e)
		return model.PortRange{}, false
	}
	return model.PortRange{First: s, Last: e}, true
}

// cnpProtocols converts the protocols of a ClusterNetworkPolicy rule
// (NPEP-187). Absent protocols match every connection ("If unspecified,
// protocol-specific attributes will not be used to match traffic"); a
// present list has 1 to 25 items, each with exactly one of tcp, udp, sctp
// and destinationNamedPort.
//
// tcp, udp and sctp each carry MinProperties=1, so their destinationPort
// is required in practice even though the field is optional (the API
// overview's "If destinationPort is omitted, all ports for the specified
// protocol match" cannot happen: the API server rejects `tcp: {}`). "TCP,
// any port" is written as the range 1-65535, as NPEP-187 says
// (https://github.com/kubernetes-sigs/network-policy-api/blob/v0.3.0/npeps/npep-187-ports-and-protocols.md).
func (c *converter) cnpProtocols(path string, protos []v1beta1.ClusterNetworkPolicyProtocol) ([]model.PortSpec, []namedPort) {
	if protos == nil {
		return nil, nil
	}
	if len(protos) == 0 {
		c.errorf(path, "must list at least one protocol when set; omit protocols to match every connection")
		return nil, nil
	}
	c.maxItems(path, len(protos), c.d.maxItems, "protocols")
	var specs []model.PortSpec
	var named []namedPort
	for i, p := range protos {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		set := setFields([]string{"tcp", "udp", "sctp", "destinationNamedPort"}, p.TCP != nil, p.UDP != nil, p.SCTP != nil, p.DestinationNamedPort != "")
		if len(set) != 1 {
			c.errorf(ipath, "exactly one of tcp, udp, sctp, destinationNamedPort must be set, %s", describeSet(set))
			continue
		}
		var spec model.PortSpec
		var ok bool
		switch {
		case p.TCP != nil:
			spec, ok = c.cnpPort(ipath+".tcp", model.TCP, p.TCP.DestinationPort)
		case p.UDP != nil:
			spec, ok = c.cnpPort(ipath+".udp", model.UDP, p.UDP.DestinationPort)
		case p.SCTP != nil:
			spec, ok = c.cnpPort(ipath+".sctp", model.SCTP, p.SCTP.DestinationPort)
		default:
			// "DestinationNamedPort selects a destination port on a pod
			// based on the ContainerPort name": by name alone, whatever
			// the protocol of the container port.
			spec, ok = model.PortSpec{Name: p.DestinationNamedPort}, true
			named = append(named, namedPort{path: fmt.Sprintf("protocols[%d].destinationNamedPort", i), name: p.DestinationNamedPort})
		}
		if ok {
			specs = append(specs, spec)
		}
	}
	return specs, named
}

func (c *converter) cnpPort(path string, proto model.Protocol, dp *v1beta1.Port) (model.PortSpec, bool) {
	if dp == nil {
		c.errorf(path, "must set destinationPort; to match every %s port use the range 1-65535", proto)
		return model.PortSpec{}, false
	}
	path += ".destinationPort"
	// Number is omitempty: zero means absent, as it does on the wire.
	set := setFields([]string{"number", "range"}, dp.Number != 0, dp.Range != nil)
	if len(set) != 1 {
		c.errorf(path, "exactly one of number, range must be set, %s", describeSet(set))
		return model.PortSpec{}, false
	}
	if dp.Range != nil {
		r, ok := c.portRange(path+".range", dp.Range.Start, dp.Range.End)
		return model.PortSpec{Protocol: proto, Ports: model.PortsOf(r)}, ok
	}
	n, ok := c.portNumber(path+".number", dp.Number)
	return model.PortSpec{Protocol: proto, Ports: model.SinglePort(n)}, ok
}

// namedPortConflicts enforces the egress rules' CEL validation: "networks/
// nodes/domainNames peer cannot be set with namedPorts since there are no
// namedPorts for networks/nodes/domainNames". Ingress peers are always
// pods, so the rule exists only on egress.
func (c *converter) namedPortConflicts(path string, peers []peerIn, named []namedPort) {
	if len(named) == 0 {
		return
	}
	for j, p := range peers {
		kind := ""
		switch {
		case p.networks != nil:
			kind = "networks"
		case p.nodes != nil:
			kind = "nodes"
		case p.domainNames != nil:
			kind = "domainNames"
		default:
			continue
		}
		c.errorf(path, "%s %q cannot be used with the %s peer to[%d]: networks, nodes and domainNames peers have no named ports",
			named[0].path, named[0].name, kind, j)
		return
	}
}
