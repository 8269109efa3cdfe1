package lab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The part of SCTP (RFC 9260) the lab speaks. This kernel has no SCTP
// sockets, so listeners answer INITs on a raw socket and probes send INITs
// from one: an association never goes past INIT / INIT ACK, which is all a
// reachability probe needs, and what conntrack and nftables see of a real
// association's first round trip.

// Chunk and parameter types (RFC 9260 section 3.2 and 3.3).
const (
	sctpChunkInit    = 1
	sctpChunkInitAck = 2
	sctpChunkAbort   = 6

	sctpParamStateCookie = 7
)

const (
	sctpHeaderLen   = 12
	sctpChunkHdrLen = 4
	sctpInitFixLen  = 16 // initiate tag, a_rwnd, OS, MIS, initial TSN
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sctpPacket is an SCTP packet: the common header and its chunks.
type sctpPacket struct {
	SrcPort, DstPort uint16
	// Tag is the verification tag.
	Tag uint32
	// Checksum is the CRC32c as read by parseSCTP; marshal ignores it and
	// computes the right one.
	Checksum uint32
	Chunks   []sctpChunk
}

// sctpChunk is one chunk; Value excludes the chunk header and the padding.
type sctpChunk struct {
	Type, Flags uint8
	Value       []byte
}

// sctpInit is the value of an INIT or INIT ACK chunk.
type sctpInit struct {
	Tag        uint32 // initiate tag, never 0
	Window     uint32 // advertised receiver window credit
	OutStreams uint16
	InStreams  uint16
	TSN        uint32
	Params     []sctpParam
}

// sctpParam is one optional or variable-length parameter; Value excludes
// the parameter header and the padding.
type sctpParam struct {
	Type  uint16
	Value []byte
}

var errSCTPShort = errors.New("sctp: packet shorter than the common header")

// parseSCTP parses an SCTP packet: the common header and the chunk list.
// It checks every length field against the data but not the checksum
// (sctpChecksumOK does), so that callers can tell a corrupt packet from a
// malformed one. Chunk values alias b.
func parseSCTP(b []byte) (sctpPacket, error) {
	if len(b) < sctpHeaderLen {
		return sctpPacket{}, errSCTPShort
	}
	p := sctpPacket{
		SrcPort:  binary.BigEndian.Uint16(b[0:]),
		DstPort:  binary.BigEndian.Uint16(b[2:]),
		Tag:      binary.BigEndian.Uint32(b[4:]),
		Checksum: binary.LittleEndian.Uint32(b[8:]),
	}
	tlvs, err := splitTLV(b[sctpHeaderLen:], "chunk")
	if err != nil {
		return sctpPacket{}, err
	}
	for _, c := range tlvs {
		p.Chunks = append(p.Chunks, sctpChunk{Type: c[0], Flags: c[1], Value: c[4:]})
	}
	if len(p.Chunks) == 0 {
		return sctpPacket{}, errors.New("sctp: packet without chunks")
	}
	return p, nil
}

// marshal encodes p with every chunk padded and the CRC32c checksum
// filled in.
func (p *sctpPacket) marshal() []byte {
	n := sctpHeaderLen
	for _, c := range p.Chunks {
		n += pad4(sctpChunkHdrLen + len(c.Value))
	}
	b := make([]byte, sctpHeaderLen, n)
	binary.BigEndian.PutUint16(b[0:], p.SrcPort)
	binary.BigEndian.PutUint16(b[2:], p.DstPort)
	binary.BigEndian.PutUint32(b[4:], p.Tag)
	for _, c := range p.Chunks {
		b = appendTLV(b, c.Type, c.Flags, c.Value)
	}
	binary.LittleEndian.PutUint32(b[8:], sctpChecksum(b))
	return b
}

// sctpChecksum returns the CRC32c of packet b computed with the checksum
// field as zero. RFC 9260 appendix A: the CRC32c polynomial, reflected,
// stored so that the least significant byte comes first, which is
// little-endian order (Linux: cpu_to_le32).
func sctpChecksum(b []byte) uint32 {
	var zero [4]byte
	crc := crc32.Update(0, castagnoli, b[:8])
	crc = crc32.Update(crc, castagnoli, zero[:])
	return crc32.Update(crc, castagnoli, b[sctpHeaderLen:])
}

// sctpChecksumOK reports whether packet b carries the right checksum.
func sctpChecksumOK(b []byte) bool {
	return len(b) >= sctpHeaderLen && binary.LittleEndian.Uint32(b[8:]) == sctpChecksum(b)
}

// parseSCTPInit parses the value of an INIT or INIT ACK chunk. Parameter
// values alias v.
func parseSCTPInit(v []byte) (sctpInit, error) {
	if len(v) < sctpInitFixLen {
		return sctpInit{}, fmt.Errorf("sctp: init chunk value of %d bytes, want at least %d", len(v), sctpInitFixLen)
	}
	in := sctpInit{
		Tag:        binary.BigEndian.Uint32(v[0:]),
		Window:     binary.BigEndian.Uint32(v[4:]),
		OutStreams: binary.BigEndian.Uint16(v[8:]),
		InStreams:  binary.BigEndian.Uint16(v[10:]),
		TSN:        binary.BigEndian.Uint32(v[12:]),
	}
	tlvs, err := splitTLV(v[sctpInitFixLen:], "init parameter")
	if err != nil {
		return sctpInit{}, err
	}
	for _, p := range tlvs {
		in.Params = append(in.Params, sctpParam{Type: binary.BigEndian.Uint16(p), Value: p[4:]})
	}
	return in, nil
}

// marshal encodes the value of an INIT or INIT ACK chunk.
func (in *sctpInit) marshal() []byte {
	b := make([]byte, sctpInitFixLen, 64)
	binary.BigEndian.PutUint32(b[0:], in.Tag)
	binary.BigEndian.PutUint32(b[4:], in.Window)
	binary.BigEndian.PutUint16(b[8:], in.OutStreams)
	binary.BigEndian.PutUint16(b[10:], in.InStreams)
	binary.BigEndian.PutUint32(b[12:], in.TSN)
	for _, p := range in.Params {
		b = appendTLV(b, byte(p.Type>>8), byte(p.Type), p.Value)
	}
	return b
}

// param returns the value of in's first parameter of type t.
func (in *sctpInit) param(t uint16) ([]byte, bool) {
	for _, p := range in.Params {
		if p.Type == t {
			return p.Value, true
		}
	}
	return nil, false
}

func pad4(n int) int { return (n + 3) &^ 3 }

// splitTLV splits b into SCTP chunks or parameters, which share a layout:
// two bytes of type (and flags), a 16-bit length that counts those four
// header bytes and the value but not the padding to a multiple of four.
// Each element is returned whole, header included, without padding. The
// last element's padding may be missing.
func splitTLV(b []byte, what string) ([][]byte, error) {
	var out [][]byte
	for i := 0; len(b) > 0; i++ {
		if len(b) < 4 {
			return nil, fmt.Errorf("sctp: %s %d: %d bytes left, shorter than its header", what, i, len(b))
		}
		n := int(binary.BigEndian.Uint16(b[2:]))
		if n < 4 || n > len(b) {
			return nil, fmt.Errorf("sctp: %s %d: length %d with %d bytes left", what, i, n, len(b))
		}
		out = append(out, b[:n])
		b = b[min(pad4(n), len(b)):]
	}
	return out, nil
}

// appendTLV appends a chunk or parameter (see splitTLV) with its padding.
func appendTLV(b []byte, t0, t1 byte, value []byte) []byte {
	l := 4 + len(value)
	b = append(b, t0, t1, byte(l>>8), byte(l))
	b = append(b, value...)
	return append(b, make([]byte, pad4(l)-l)...)
}

// sctpResponder answers INITs as an SCTP endpoint with listeners on Ports
// would, without keeping any association state.
type sctpResponder struct {
	// Ports are the ports with a listener.
	Ports []uint16
	// Rand returns random 32-bit values for tags, TSNs and cookies.
	Rand func() uint32
}

// answer returns the packet to send back for the received packet b, or
// nil when it needs no answer. A valid INIT (verification tag 0, alone in
// its packet, nonzero initiate tag and stream counts, right checksum) to a
// listening port gets an INIT ACK carrying a state cookie (RFC 9260
// section 5.1 step B); to any other port it gets an ABORT whose
// verification tag is the INIT's initiate tag, T bit clear (section 8.4,
// out of the blue packets, item 3). Every other packet is ignored: without
// associations there is nothing to acknowledge or abort.
func (r *sctpResponder) answer(b []byte) []byte {
	p, err := parseSCTP(b)
	if err != nil || !sctpChecksumOK(b) {
		return nil
	}
	if p.Tag != 0 || len(p.Chunks) != 1 || p.Chunks[0].Type != sctpChunkInit {
		return nil
	}
	init, err := parseSCTPInit(p.Chunks[0].Value)
	if err != nil || init.Tag == 0 || init.OutStreams == 0 || init.InStreams == 0 {
		return nil
	}
	out := sctpPacket{SrcPort: p.DstPort, DstPort: p.SrcPort, Tag: init.Tag}
	listening := false
	for _, port := range r.Ports {
		listening = listening || port == p.DstPort
	}
	if !listening {
		out.Chunks = []sctpChunk{{Type: sctpChunkAbort}}
		return out.marshal()
	}
	tag := r.Rand()
	for tag == 0 {
		tag = r.Rand()
	}
	// The cookie is opaque to the peer. A real stack signs it to rebuild
	// the association from a COOKIE ECHO; here it only has to be present
	// and well-formed.
	cookie := make([]byte, 24)
	binary.BigEndian.PutUint32(cookie[0:], tag)
	binary.BigEndian.PutUint32(cookie[4:], init.Tag)
	binary.BigEndian.PutUint16(cookie[8:], p.SrcPort)
	binary.BigEndian.PutUint16(cookie[10:], p.DstPort)
	for i := 12; i < len(cookie); i += 4 {
		binary.BigEndian.PutUint32(cookie[i:], r.Rand())
	}
	ack := sctpInit{
		Tag:        tag,
		Window:     1 << 16,
		OutStreams: min(init.InStreams, 10),
		InStreams:  init.OutStreams,
		TSN:        r.Rand(),
		Params:     []sctpParam{{Type: sctpParamStateCookie, Value: cookie}},
	}
	out.Chunks = []sctpChunk{{Type: sctpChunkInitAck, Value: ack.marshal()}}
	return out.marshal()
}

// sctpInitPacket returns an INIT from srcPort to dstPort with initiate
// tag tag, as a probe sends it.
func sctpInitPacket(srcPort, dstPort uint16, tag, tsn uint32) []byte {
	init := sctpInit{Tag: tag, Window: 1 << 16, OutStreams: 10, InStreams: 65535, TSN: tsn}
	p := sctpPacket{SrcPort: srcPort, DstPort: dstPort, Chunks: []sctpChunk{{Type: sctpChunkInit, Value: init.marshal()}}}
	return p.marshal()
}

// sctpReply classifies packet b received by a probe that sent an INIT
// from srcPort to dstPort with initiate tag tag: accepted when it is a
// well-formed INIT ACK with a state cookie, refused when it is an ABORT,
// and ignored (ok false) when it is anything else or belongs to another
// probe.
func sctpReply(b []byte, srcPort, dstPort uint16, tag uint32) (accepted, ok bool) {
	p, err := parseSCTP(b)
	if err != nil || !sctpChecksumOK(b) || p.Tag != tag || p.SrcPort != dstPort || p.DstPort != srcPort {
		return false, false
	}
	switch c := p.Chunks[0]; c.Type {
	case sctpChunkInitAck:
		ack, err := parseSCTPInit(c.Value)
		if err != nil || ack.Tag == 0 || ack.OutStreams == 0 || ack.InStreams == 0 {
			return false, false
		}
		if cookie, ok := ack.param(sctpParamStateCookie); !ok || len(cookie) == 0 {
			return false, false
		}
		return true, true
	case sctpChunkAbort:
		// T bit clear: the tag is ours, as an answer to our INIT.
		return false, c.Flags&1 == 0
	}
	return false, false
}
