package model

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MinPort and MaxPort bound the ports that TCP, UDP and SCTP policies can
// name. Port 0 is never a valid destination port and is not representable.
const (
	MinPort = 1
	MaxPort = 65535
)

// PortRange is an inclusive range of ports. The zero value is not a valid
// range; use NewPortRange or the literal PortRange{First: 80, Last: 80}.
type PortRange struct {
	First, Last uint16 // inclusive
}

// String formats the range as "80" or "8000-8080".
func (r PortRange) String() string {
	if r.First == r.Last {
		return strconv.Itoa(int(r.First))
	}
	return strconv.Itoa(int(r.First)) + "-" + strconv.Itoa(int(r.Last))
}

// PortSet is an immutable set of ports, kept as sorted, disjoint,
// non-adjacent ranges. The zero value is the empty set. Operations return
// new sets and never modify their operands, so sets may be shared freely.
type PortSet struct {
	r []PortRange
}

// AllPorts returns the set of every port, 1-65535.
func AllPorts() PortSet { return PortSet{r: []PortRange{{MinPort, MaxPort}}} }

// PortsOf returns the set holding the given ranges. Ranges may overlap,
// touch or come in any order; ranges with First > Last are ignored and a
// range starting at 0 is clipped to start at 1.
func PortsOf(ranges ...PortRange) PortSet {
	rs := make([]PortRange, 0, len(ranges))
	for _, r := range ranges {
		if r.First == 0 {
			r.First = MinPort
		}
		if r.Last < r.First {
			continue
		}
		rs = append(rs, r)
	}
	return normalize(rs)
}

// SinglePort returns the set holding only port p.
func SinglePort(p uint16) PortSet { return PortsOf(PortRange{p, p}) }

func normalize(rs []PortRange) PortSet {
	if len(rs) == 0 {
		return PortSet{}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].First < rs[j].First })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if uint32(r.First) <= uint32(last.Last)+1 {
			if r.Last > last.Last {
				last.Last = r.Last
			}
			continue
		}
		out = append(out, r)
	}
	return PortSet{r: out}
}

// Ranges returns the set's ranges in ascending order. The caller must not
// modify the returned slice.
func (s PortSet) Ranges() []PortRange { return s.r }

// IsEmpty reports whether s holds no port.
func (s PortSet) IsEmpty() bool { return len(s.r) == 0 }

// IsFull reports whether s holds every port 1-65535.
func (s PortSet) IsFull() bool {
	return len(s.r) == 1 && s.r[0].First == MinPort && s.r[0].Last == MaxPort
}

// Contains reports whether s holds port p.
func (s PortSet) Contains(p uint16) bool {
	i := sort.Search(len(s.r), func(i int) bool { return s.r[i].Last >= p })
	return i < len(s.r) && s.r[i].First <= p
}

// Len returns the number of ports in s.
func (s PortSet) Len() int {
	n := 0
	for _, r := range s.r {
		n += int(r.Last) - int(r.First) + 1
	}
	return n
}

// Equal reports whether s and o hold the same ports.
func (s PortSet) Equal(o PortSet) bool {
	if len(s.r) != len(o.r) {
		return false
	}
	for i := range s.r {
		if s.r[i] != o.r[i] {
			return false
		}
	}
	return true
}

// Union returns the ports in s or o.
func (s PortSet) Union(o PortSet) PortSet {
	switch {
	case len(o.r) == 0:
		return s
	case len(s.r) == 0:
		return o
	case s.IsFull() || o.IsFull():
		return AllPorts()
	}
	rs := make([]PortRange, 0, len(s.r)+len(o.r))
	rs = append(rs, s.r...)
	rs = append(rs, o.r...)
	return normalize(rs)
}

// Intersect returns the ports in both s and o.
func (s PortSet) Intersect(o PortSet) PortSet {
	switch {
	case len(s.r) == 0 || len(o.r) == 0:
		return PortSet{}
	case s.IsFull():
		return o
	case o.IsFull():
		return s
	}
	var out []PortRange
	i, j := 0, 0
	for i < len(s.r) && j < len(o.r) {
		a, b := s.r[i], o.r[j]
		lo, hi := max(a.First, b.First), min(a.Last, b.Last)
		if lo <= hi {
			out = append(out, PortRange{lo, hi})
		}
		if a.Last < b.Last {
			i++
		} else {
			j++
		}
	}
	return PortSet{r: out}
}

// Subtract returns the ports in s but not in o.
func (s PortSet) Subtract(o PortSet) PortSet {
	if len(s.r) == 0 || len(o.r) == 0 {
		return s
	}
	if o.IsFull() {
		return PortSet{}
	}
	var out []PortRange
	j := 0
	for _, a := range s.r {
		first := uint32(a.First)
		for j < len(o.r) && o.r[j].Last < a.First {
			j++
		}
		for k := j; k < len(o.r) && uint32(o.r[k].First) <= uint32(a.Last); k++ {
			b := o.r[k]
			if uint32(b.First) > first {
				out = append(out, PortRange{uint16(first), b.First - 1})
			}
			first = uint32(b.Last) + 1
		}
		if first <= uint32(a.Last) {
			out = append(out, PortRange{uint16(first), a.Last})
		}
	}
	return PortSet{r: out}
}

// String formats s as comma-separated ports and ranges: "80,443,8000-8080".
// The empty set formats as "" and the full set as "1-65535".
func (s PortSet) String() string {
	var b strings.Builder
	for i, r := range s.r {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.String())
	}
	return b.String()
}

// ParsePortSet parses the format String produces. The empty string is the
// empty set.
func ParsePortSet(s string) (PortSet, error) {
	if s == "" {
		return PortSet{}, nil
	}
	var rs []PortRange
	for _, f := range strings.Split(s, ",") {
		r, err := ParsePortRange(f)
		if err != nil {
			return PortSet{}, err
		}
		rs = append(rs, r)
	}
	return PortsOf(rs...), nil
}

// ParsePortRange parses "80" or "8000-8080".
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	first, err := parsePort(lo)
	if err != nil {
		return PortRange{}, err
	}
	last := first
	if isRange {
		if last, err = parsePort(hi); err != nil {
			return PortRange{}, err
		}
	}
	if last < first {
		return PortRange{}, fmt.Errorf("port range %q: end before start", s)
	}
	return PortRange{first, last}, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < MinPort || n > MaxPort {
		return 0, fmt.Errorf("port %q: want a number from %d to %d", s, MinPort, MaxPort)
	}
	return uint16(n), nil
}
