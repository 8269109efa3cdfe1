package model

import (
	"fmt"
	"strings"
)

// ConnSet is an immutable set of connections a policy decision can allow:
// ports per transport protocol, plus one flag for every other IP protocol
// (ICMP and the rest), which policies can only allow as a whole by naming
// no ports at all. The zero value is the empty set.
type ConnSet struct {
	ports [numProtocols]PortSet
	other bool
}

// AllConns returns the set of all connections: every port of every
// protocol, and every other IP protocol.
func AllConns() ConnSet {
	var c ConnSet
	for i := range c.ports {
		c.ports[i] = AllPorts()
	}
	c.other = true
	return c
}

// ConnsOf returns the set holding ports ps of protocol p.
func ConnsOf(p Protocol, ps PortSet) ConnSet {
	var c ConnSet
	if i := p.index(); i >= 0 {
		c.ports[i] = ps
	}
	return c
}

// Ports returns the ports of protocol p in c.
func (c ConnSet) Ports(p Protocol) PortSet {
	if i := p.index(); i >= 0 {
		return c.ports[i]
	}
	return PortSet{}
}

// Other reports whether c holds the IP protocols other than TCP, UDP and
// SCTP.
func (c ConnSet) Other() bool { return c.other }

// IsEmpty reports whether c holds no connection.
func (c ConnSet) IsEmpty() bool {
	if c.other {
		return false
	}
	for _, ps := range c.ports {
		if !ps.IsEmpty() {
			return false
		}
	}
	return true
}

// IsAll reports whether c holds every connection.
func (c ConnSet) IsAll() bool {
	if !c.other {
		return false
	}
	for _, ps := range c.ports {
		if !ps.IsFull() {
			return false
		}
	}
	return true
}

// Contains reports whether c holds port of protocol p.
func (c ConnSet) Contains(p Protocol, port uint16) bool {
	return c.Ports(p).Contains(port)
}

// Equal reports whether c and o hold the same connections.
func (c ConnSet) Equal(o ConnSet) bool {
	if c.other != o.other {
		return false
	}
	for i := range c.ports {
		if !c.ports[i].Equal(o.ports[i]) {
			return false
		}
	}
	return true
}

// Union returns the connections in c or o.
func (c ConnSet) Union(o ConnSet) ConnSet {
	var r ConnSet
	for i := range c.ports {
		r.ports[i] = c.ports[i].Union(o.ports[i])
	}
	r.other = c.other || o.other
	return r
}

// Intersect returns the connections in both c and o.
func (c ConnSet) Intersect(o ConnSet) ConnSet {
	var r ConnSet
	for i := range c.ports {
		r.ports[i] = c.ports[i].Intersect(o.ports[i])
	}
	r.other = c.other && o.other
	return r
}

// Subtract returns the connections in c but not in o.
func (c ConnSet) Subtract(o ConnSet) ConnSet {
	var r ConnSet
	for i := range c.ports {
		r.ports[i] = c.ports[i].Subtract(o.ports[i])
	}
	r.other = c.other && !o.other
	return r
}

// String formats c compactly for people: "all", "TCP 80,443",
// "TCP 8000-8080; UDP 53", "UDP" (every UDP port), or "all except TCP 22"
// when c holds the other IP protocols but not every port. The empty set
// formats as "none".
func (c ConnSet) String() string {
	switch {
	case c.IsEmpty():
		return "none"
	case c.IsAll():
		return "all"
	case c.other:
		return "all except " + AllConns().Subtract(c).portsString()
	}
	return c.portsString()
}

func (c ConnSet) portsString() string {
	var parts []string
	for i, ps := range c.ports {
		switch {
		case ps.IsEmpty():
		case ps.IsFull():
			parts = append(parts, Protocols[i].String())
		default:
			parts = append(parts, Protocols[i].String()+" "+ps.String())
		}
	}
	if c.other {
		parts = append(parts, "other protocols")
	}
	return strings.Join(parts, "; ")
}

// ParseConnSet parses the format String produces.
func ParseConnSet(s string) (ConnSet, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "none" || s == "":
		return ConnSet{}, nil
	case s == "all":
		return AllConns(), nil
	case strings.HasPrefix(s, "all except "):
		sub, err := parsePortsString(strings.TrimPrefix(s, "all except "))
		if err != nil {
			return ConnSet{}, err
		}
		return AllConns().Subtract(sub), nil
	}
	return parsePortsString(s)
}

func parsePortsString(s string) (ConnSet, error) {
	var c ConnSet
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "other protocols" {
			c.other = true
			continue
		}
		name, ports, hasPorts := strings.Cut(part, " ")
		p, err := ParseProtocol(name)
		if err != nil {
			return ConnSet{}, fmt.Errorf("connections %q: %w", s, err)
		}
		ps := AllPorts()
		if hasPorts {
			if ps, err = ParsePortSet(ports); err != nil {
				return ConnSet{}, fmt.Errorf("connections %q: %w", s, err)
			}
		}
		c = c.Union(ConnsOf(p, ps))
	}
	return c, nil
}
