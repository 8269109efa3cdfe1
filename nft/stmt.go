package nft

import "net/netip"

// Stmt is one statement of a rule. The set of statements is closed (the
// interface has an unexported method) so that Render, Trace, Validate and
// the dataplane's netlink translation each handle every kind:
//
//	CtStateIn   ct state established,related
//	NFProtoIs   meta nfproto ipv6
//	L4ProtoIs   meta l4proto tcp
//	AddrIs      ip saddr 10.0.0.1, ip6 daddr != fd00::1
//	InSet       ip saddr @peers, meta l4proto . th dport @ports,
//	            ip saddr . ip daddr @self
//	VMap        ip daddr vmap @ingress_v4 (last statement only)
//	Counter     counter
//	Verdict     accept, drop, jump c, goto c, return (last statement only)
type Stmt interface {
	isStmt()
}

// CtStateIn matches packets whose conntrack state is one of States:
// `ct state established,related`.
type CtStateIn struct {
	States CtState
}

// NFProtoIs matches packets of one address family: `meta nfproto ipv4`.
type NFProtoIs struct {
	Family Family
}

// L4ProtoIs matches packets whose transport protocol, after any IPv6
// extension headers, is Proto: `meta l4proto tcp`.
type L4ProtoIs struct {
	Proto Proto
}

// AddrIs matches packets whose address field Key equals Addr, or differs
// from it when Neg is set. Key must be one of the four address keys.
//
// Like every address match in an inet table it implies the family:
// `ip saddr != 10.0.0.1` does not match an IPv6 packet.
type AddrIs struct {
	Key  Key
	Addr netip.Addr
	Neg  bool
}

// InSet matches packets whose Key is in the named set, or is not in it
// when Neg is set. The set's type must be Key.Type(). Keys with an
// address imply the address family, as for AddrIs.
type InSet struct {
	Key Key
	Set string
	Neg bool
}

// VMap looks Key up in the named verdict map and applies the element's
// verdict. If the key is absent, the rule does not match and evaluation
// goes on with the next rule. It must be the rule's last statement.
type VMap struct {
	Key Key
	Map string
}

// Counter counts the packets and bytes that reach it.
type Counter struct{}

func (CtStateIn) isStmt() {}
func (NFProtoIs) isStmt() {}
func (L4ProtoIs) isStmt() {}
func (AddrIs) isStmt()    {}
func (InSet) isStmt()     {}
func (VMap) isStmt()      {}
func (Counter) isStmt()   {}
func (Verdict) isStmt()   {}

// Key is the part of a packet a lookup or comparison reads. Its Type is the
// set type it is looked up in. The zero value is unknown.
type Key uint8

const (
	KeyUnknown Key = iota
	// KeySrc4 is `ip saddr`.
	KeySrc4
	// KeyDst4 is `ip daddr`.
	KeyDst4
	// KeySrc6 is `ip6 saddr`.
	KeySrc6
	// KeyDst6 is `ip6 daddr`.
	KeyDst6
	// KeyProtoPort is `meta l4proto . th dport`.
	KeyProtoPort
	// KeySrc4ProtoPort is `ip saddr . meta l4proto . th dport`.
	KeySrc4ProtoPort
	// KeyDst4ProtoPort is `ip daddr . meta l4proto . th dport`.
	KeyDst4ProtoPort
	// KeySrc6ProtoPort is `ip6 saddr . meta l4proto . th dport`.
	KeySrc6ProtoPort
	// KeyDst6ProtoPort is `ip6 daddr . meta l4proto . th dport`.
	KeyDst6ProtoPort
	// KeyAddrPair4 is `ip saddr . ip daddr`.
	KeyAddrPair4
	// KeyAddrPair6 is `ip6 saddr . ip6 daddr`.
	KeyAddrPair6
)

// Keys lists every known key.
var Keys = [...]Key{
	KeySrc4, KeyDst4, KeySrc6, KeyDst6, KeyProtoPort,
	KeySrc4ProtoPort, KeyDst4ProtoPort, KeySrc6ProtoPort, KeyDst6ProtoPort,
	KeyAddrPair4, KeyAddrPair6,
}

// String returns the key as nft writes it.
func (k Key) String() string {
	switch k {
	case KeySrc4:
		return "ip saddr"
	case KeyDst4:
		return "ip daddr"
	case KeySrc6:
		return "ip6 saddr"
	case KeyDst6:
		return "ip6 daddr"
	case KeyProtoPort:
		return "meta l4proto . th dport"
	case KeySrc4ProtoPort:
		return "ip saddr . meta l4proto . th dport"
	case KeyDst4ProtoPort:
		return "ip daddr . meta l4proto . th dport"
	case KeySrc6ProtoPort:
		return "ip6 saddr . meta l4proto . th dport"
	case KeyDst6ProtoPort:
		return "ip6 daddr . meta l4proto . th dport"
	case KeyAddrPair4:
		return "ip saddr . ip daddr"
	case KeyAddrPair6:
		return "ip6 saddr . ip6 daddr"
	}
	return "unknown"
}

// Type returns the set type the key is looked up in.
func (k Key) Type() SetType {
	switch k {
	case KeySrc4, KeyDst4:
		return TypeIPv4Addr
	case KeySrc6, KeyDst6:
		return TypeIPv6Addr
	case KeyProtoPort:
		return TypeProtoPort
	case KeySrc4ProtoPort, KeyDst4ProtoPort:
		return TypeIPv4ProtoPort
	case KeySrc6ProtoPort, KeyDst6ProtoPort:
		return TypeIPv6ProtoPort
	case KeyAddrPair4:
		return TypeIPv4AddrPair
	case KeyAddrPair6:
		return TypeIPv6AddrPair
	}
	return TypeUnknown
}

// IsSource reports whether the key's (first) address field is the source
// address.
func (k Key) IsSource() bool {
	return k == KeySrc4 || k == KeySrc6 || k == KeySrc4ProtoPort || k == KeySrc6ProtoPort ||
		k == KeyAddrPair4 || k == KeyAddrPair6
}

// IsAddr reports whether the key is a bare address (usable in AddrIs).
func (k Key) IsAddr() bool {
	return k == KeySrc4 || k == KeyDst4 || k == KeySrc6 || k == KeyDst6
}
