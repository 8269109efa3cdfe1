package nft

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"go4.org/netipx"

	"github.com/bulkhead/bulkhead/model"
)

// DefaultTable is the name of the one table bulkhead owns, in family inet.
// Other names are for tests only, so that several tables can coexist.
const DefaultTable = "bulkhead"

// Ruleset is the whole content of bulkhead's table: its chains, its named
// sets and its verdict maps. The zero value is an empty table named
// DefaultTable.
//
// Order matters only for Chains' Rules; Render, Diff and the dataplane
// treat Chains, Sets and Maps as collections keyed by name, and set and map
// elements as unordered collections.
type Ruleset struct {
	// Table names the table; "" means DefaultTable. The family is always
	// inet, so that one chain sees IPv4 and IPv6.
	Table  string
	Chains []Chain
	Sets   []Set
	Maps   []Map
}

// TableName returns the name of the table, DefaultTable when Table is "".
func (rs *Ruleset) TableName() string {
	if rs == nil || rs.Table == "" {
		return DefaultTable
	}
	return rs.Table
}

// Chain returns the chain named name, or nil.
func (rs *Ruleset) Chain(name string) *Chain {
	for i := range rs.Chains {
		if rs.Chains[i].Name == name {
			return &rs.Chains[i]
		}
	}
	return nil
}

// Set returns the set named name, or nil.
func (rs *Ruleset) Set(name string) *Set {
	for i := range rs.Sets {
		if rs.Sets[i].Name == name {
			return &rs.Sets[i]
		}
	}
	return nil
}

// Map returns the verdict map named name, or nil.
func (rs *Ruleset) Map(name string) *Map {
	for i := range rs.Maps {
		if rs.Maps[i].Name == name {
			return &rs.Maps[i]
		}
	}
	return nil
}

// Clone returns a deep copy of rs, so that an applier can keep a baseline
// that its caller cannot modify. Statements are values and are copied with
// the rules that hold them.
func (rs *Ruleset) Clone() *Ruleset {
	if rs == nil {
		return nil
	}
	out := &Ruleset{Table: rs.Table}
	out.Chains = make([]Chain, len(rs.Chains))
	for i, c := range rs.Chains {
		c.Rules = slices.Clone(c.Rules)
		for j := range c.Rules {
			c.Rules[j].Stmts = slices.Clone(c.Rules[j].Stmts)
		}
		out.Chains[i] = c
	}
	out.Sets = make([]Set, len(rs.Sets))
	for i, s := range rs.Sets {
		s.Elems = slices.Clone(s.Elems)
		out.Sets[i] = s
	}
	out.Maps = make([]Map, len(rs.Maps))
	for i, m := range rs.Maps {
		m.Elems = slices.Clone(m.Elems)
		out.Maps[i] = m
	}
	return out
}

// Hook is the netfilter hook a base chain is attached to. The zero value,
// HookNone, makes a regular chain, reached only by jump, goto or a verdict
// map.
type Hook uint8

const (
	HookNone Hook = iota
	HookPrerouting
	HookInput
	HookForward
	HookOutput
	HookPostrouting
)

// Hooks lists the hooks a base chain can use, in packet-path order.
var Hooks = [...]Hook{HookPrerouting, HookInput, HookForward, HookOutput, HookPostrouting}

func (h Hook) String() string {
	switch h {
	case HookNone:
		return "none"
	case HookPrerouting:
		return "prerouting"
	case HookInput:
		return "input"
	case HookForward:
		return "forward"
	case HookOutput:
		return "output"
	case HookPostrouting:
		return "postrouting"
	}
	return "hook(" + strconv.Itoa(int(h)) + ")"
}

// Policy is what a base chain does with a packet that reaches its end (or
// a return verdict with nothing to return to). The zero value is unset,
// which only regular chains may have.
type Policy uint8

const (
	PolicyUnset Policy = iota
	PolicyAccept
	PolicyDrop
)

func (p Policy) String() string {
	switch p {
	case PolicyAccept:
		return "accept"
	case PolicyDrop:
		return "drop"
	}
	return "unset"
}

// Chain is a list of rules. With a Hook it is a base chain of type filter
// that the kernel calls at that hook, ordered against other base chains on
// the same hook by Priority (lower first); without one it is a regular
// chain.
type Chain struct {
	Name     string
	Hook     Hook
	Priority int32  // base chains only; 0 is nft's "filter"
	Policy   Policy // base chains only, and required there
	Rules    []Rule
}

// IsBase reports whether c is attached to a hook.
func (c *Chain) IsBase() bool { return c.Hook != HookNone }

// Rule is a list of statements evaluated left to right: matches, then an
// optional counter, then at most one verdict or verdict-map lookup, which
// must come last. A rule whose matches all hold and that ends without a
// verdict lets the packet continue with the next rule.
type Rule struct {
	Stmts []Stmt
	// Comment says where the rule comes from (the policy and the rule
	// within it). It is stored in the kernel with the rule, so that
	// `nft list ruleset` on a node shows it, and is limited to
	// MaxCommentLen bytes without double quotes or control characters.
	Comment string
}

// MaxCommentLen is the longest comment the kernel stores with a rule,
// a set or a map (NFTNL_UDATA_COMMENT_MAXLEN, including the final NUL).
const MaxCommentLen = 127

// SetType is the type of the keys of a set or verdict map. Every type is
// a concatenation of fields Elem holds: an address, then either a second
// address or a transport protocol and a port.
type SetType uint8

const (
	TypeUnknown SetType = iota
	// TypeIPv4Addr is nft's ipv4_addr.
	TypeIPv4Addr
	// TypeIPv6Addr is nft's ipv6_addr.
	TypeIPv6Addr
	// TypeProtoPort is "inet_proto . inet_service", matched with
	// `meta l4proto . th dport`.
	TypeProtoPort
	// TypeIPv4ProtoPort is "ipv4_addr . inet_proto . inet_service".
	TypeIPv4ProtoPort
	// TypeIPv6ProtoPort is "ipv6_addr . inet_proto . inet_service".
	TypeIPv6ProtoPort
	// TypeIPv4AddrPair is "ipv4_addr . ipv4_addr", matched with
	// `ip saddr . ip daddr`: a set of (pod, pod) pairs lets a chain shared
	// by many pods accept each pod's traffic to itself.
	TypeIPv4AddrPair
	// TypeIPv6AddrPair is "ipv6_addr . ipv6_addr".
	TypeIPv6AddrPair
)

// SetTypes lists every known set type.
var SetTypes = [...]SetType{TypeIPv4Addr, TypeIPv6Addr, TypeProtoPort, TypeIPv4ProtoPort, TypeIPv6ProtoPort, TypeIPv4AddrPair, TypeIPv6AddrPair}

// String returns the type as nft spells it in a set declaration.
func (t SetType) String() string {
	switch t {
	case TypeIPv4Addr:
		return "ipv4_addr"
	case TypeIPv6Addr:
		return "ipv6_addr"
	case TypeProtoPort:
		return "inet_proto . inet_service"
	case TypeIPv4ProtoPort:
		return "ipv4_addr . inet_proto . inet_service"
	case TypeIPv6ProtoPort:
		return "ipv6_addr . inet_proto . inet_service"
	case TypeIPv4AddrPair:
		return "ipv4_addr . ipv4_addr"
	case TypeIPv6AddrPair:
		return "ipv6_addr . ipv6_addr"
	}
	return "unknown"
}

// IsKnown reports whether t is one of SetTypes.
func (t SetType) IsKnown() bool { return t > TypeUnknown && t <= TypeIPv6AddrPair }

// Family returns the address family of the type's address field, or
// FamilyUnknown if it has none.
func (t SetType) Family() Family {
	switch t {
	case TypeIPv4Addr, TypeIPv4ProtoPort, TypeIPv4AddrPair:
		return IPv4
	case TypeIPv6Addr, TypeIPv6ProtoPort, TypeIPv6AddrPair:
		return IPv6
	}
	return FamilyUnknown
}

// HasProtoPort reports whether the type ends in "inet_proto . inet_service".
func (t SetType) HasProtoPort() bool {
	return t == TypeProtoPort || t == TypeIPv4ProtoPort || t == TypeIPv6ProtoPort
}

// IsAddrPair reports whether the type is a pair of addresses.
func (t SetType) IsAddrPair() bool { return t == TypeIPv4AddrPair || t == TypeIPv6AddrPair }

// IsConcat reports whether keys of the type have more than one field.
func (t SetType) IsConcat() bool { return t.HasProtoPort() || t.IsAddrPair() }

// Set is a named set. Interval sets hold prefixes, ranges and port ranges;
// the kernel rejects overlapping elements in them, so build address
// elements with AddrElems, which merges. Sets without Interval hold exact
// values only.
type Set struct {
	Name     string
	Type     SetType
	Interval bool
	Comment  string // see Rule.Comment
	Elems    []Elem
}

// Map is a named verdict map: `ip daddr vmap @name` looks the packet's
// key up and applies the element's verdict; a packet whose key is absent
// goes on with the next rule.
type Map struct {
	Name     string
	Type     SetType // key type
	Interval bool
	Comment  string // see Rule.Comment
	Elems    []MapElem
}

// MapElem is one element of a verdict map. The verdict is accept, drop,
// jump or goto.
type MapElem struct {
	Key     Elem
	Verdict Verdict
}

// Elem is one element of a set or one key of a map: a value or, in
// interval sets, a closed interval in each field. Only the fields of the
// set's type are used; the others must be zero. Elem is comparable, so
// Diff and the dataplane use it as a map key.
type Elem struct {
	// Addr is the address field, From to To inclusive; a single address
	// has From == To.
	Addr netipx.IPRange
	// Addr2 is the second address field of address-pair types (the
	// destination of `ip saddr . ip daddr`).
	Addr2 netipx.IPRange
	// Proto is the transport protocol field. It is always a single value.
	Proto Proto
	// Ports is the destination-port field, First to Last inclusive.
	Ports model.PortRange
}

// AddrElem returns the element holding the single address a.
func AddrElem(a netip.Addr) Elem { return Elem{Addr: netipx.IPRangeFrom(a, a)} }

// PairElem returns the address-pair element holding src . dst.
func PairElem(src, dst netip.Addr) Elem {
	return Elem{Addr: netipx.IPRangeFrom(src, src), Addr2: netipx.IPRangeFrom(dst, dst)}
}

// Family is an address family as `meta nfproto` sees it. The zero value is
// unknown.
type Family uint8

const (
	FamilyUnknown Family = iota
	IPv4
	IPv6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return "unknown"
}

// FamilyOf returns the family of a: IPv4 for 4-byte addresses, IPv6
// otherwise (including IPv4-mapped IPv6 addresses, as on the wire), and
// FamilyUnknown for the zero Addr.
func FamilyOf(a netip.Addr) Family {
	switch {
	case a.Is4():
		return IPv4
	case a.Is6():
		return IPv6
	}
	return FamilyUnknown
}

// Proto is an IP protocol number as `meta l4proto` sees it. The zero value
// (HOPOPT) never matches a real transport protocol and is treated as
// unknown.
type Proto uint8

const (
	ProtoTCP  Proto = 6
	ProtoUDP  Proto = 17
	ProtoSCTP Proto = 132
)

// ProtoOf returns the IP protocol number of a policy protocol, or 0 for
// model.ProtocolUnknown.
func ProtoOf(p model.Protocol) Proto {
	switch p {
	case model.TCP:
		return ProtoTCP
	case model.UDP:
		return ProtoUDP
	case model.SCTP:
		return ProtoSCTP
	}
	return 0
}

// String returns the name nft uses for TCP, UDP and SCTP and the number
// for any other protocol.
func (p Proto) String() string {
	switch p {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoSCTP:
		return "sctp"
	}
	return strconv.Itoa(int(p))
}

// CtState is a set of conntrack states, with the kernel's bit values. A
// packet has exactly one state.
type CtState uint32

const (
	CtInvalid     CtState = 1
	CtEstablished CtState = 2
	CtRelated     CtState = 4
	CtNew         CtState = 8
	CtUntracked   CtState = 64
)

var ctStateNames = [...]struct {
	s    CtState
	name string
}{
	{CtInvalid, "invalid"},
	{CtEstablished, "established"},
	{CtRelated, "related"},
	{CtNew, "new"},
	{CtUntracked, "untracked"},
}

// allCtStates is the union of the known states.
const allCtStates = CtInvalid | CtEstablished | CtRelated | CtNew | CtUntracked

// String lists the states as nft does: "established,related".
func (s CtState) String() string {
	var out []byte
	for _, n := range ctStateNames {
		if s&n.s != 0 {
			if len(out) > 0 {
				out = append(out, ',')
			}
			out = append(out, n.name...)
		}
	}
	if rest := s &^ allCtStates; rest != 0 || len(out) == 0 {
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = fmt.Appendf(out, "0x%x", uint32(rest))
	}
	return string(out)
}

// VerdictKind is what a verdict does. The zero value is unknown and never
// valid in a ruleset.
type VerdictKind uint8

const (
	VerdictUnknown VerdictKind = iota
	Accept
	Drop
	// Jump calls a regular chain; at its end (or on Return) evaluation
	// goes on after the jumping rule.
	Jump
	// Goto continues in a regular chain without coming back: at its end
	// evaluation returns to the rule after the last Jump, or to the base
	// chain's policy.
	Goto
	// Return ends the current chain as if its end were reached.
	Return
)

func (k VerdictKind) String() string {
	switch k {
	case Accept:
		return "accept"
	case Drop:
		return "drop"
	case Jump:
		return "jump"
	case Goto:
		return "goto"
	case Return:
		return "return"
	}
	return "unknown"
}

// Verdict is a verdict statement. Chain names the target of Jump and Goto
// and is empty otherwise.
type Verdict struct {
	Kind  VerdictKind
	Chain string
}

// Verdicts without a target, for building rules.
var (
	VerdictAccept = Verdict{Kind: Accept}
	VerdictDrop   = Verdict{Kind: Drop}
	VerdictReturn = Verdict{Kind: Return}
)

// JumpTo returns the verdict that jumps to chain.
func JumpTo(chain string) Verdict { return Verdict{Kind: Jump, Chain: chain} }

// GotoChain returns the verdict that goes to chain without returning.
func GotoChain(chain string) Verdict { return Verdict{Kind: Goto, Chain: chain} }

// String returns the verdict as nft writes it: "accept", "jump name".
func (v Verdict) String() string {
	if v.Kind == Jump || v.Kind == Goto {
		return v.Kind.String() + " " + v.Chain
	}
	return v.Kind.String()
}
