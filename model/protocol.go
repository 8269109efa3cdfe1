package model

import (
	"fmt"
	"strings"
)

// Protocol is a transport protocol that policies can name. The zero value
// is Unknown, which no parser ever produces for a valid policy.
type Protocol uint8

const (
	ProtocolUnknown Protocol = iota
	TCP
	UDP
	SCTP
)

// Protocols lists the protocols policies can name, in display order.
var Protocols = [...]Protocol{TCP, UDP, SCTP}

// numProtocols is the length of per-protocol arrays indexed by Protocol-1.
const numProtocols = len(Protocols)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	case SCTP:
		return "SCTP"
	}
	return "Unknown"
}

// ParseProtocol parses a protocol name as Kubernetes spells it ("TCP",
// "UDP", "SCTP"). It also accepts lower case, as users type it on the
// command line; manifests are validated case-sensitively by the parsers.
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToUpper(s) {
	case "TCP":
		return TCP, nil
	case "UDP":
		return UDP, nil
	case "SCTP":
		return SCTP, nil
	}
	return ProtocolUnknown, fmt.Errorf("unknown protocol %q (want TCP, UDP or SCTP)", s)
}

// index returns the position of p in per-protocol arrays, or -1.
func (p Protocol) index() int {
	if p >= TCP && p <= SCTP {
		return int(p) - 1
	}
	return -1
}
