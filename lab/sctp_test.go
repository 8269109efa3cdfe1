package lab

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCRC32c checks the checksum against published CRC32c vectors (RFC
// 3720 appendix B.4, which SCTP's RFC 9260 appendix A shares) and the
// byte order SCTP stores it in: the vector for 32 zero bytes is
// 0x8a9136aa, sent as aa 36 91 8a.
func TestCRC32c(t *testing.T) {
	inc := make([]byte, 32)
	dec := make([]byte, 32)
	for i := range inc {
		inc[i] = byte(i)
		dec[i] = byte(31 - i)
	}
	for _, tt := range []struct {
		name string
		data []byte
		want uint32
	}{
		{"zeros", make([]byte, 32), 0x8a9136aa},
		{"ones", bytes.Repeat([]byte{0xff}, 32), 0x62a8ab43},
		{"incrementing", inc, 0x46dd794e},
		{"decrementing", dec, 0x113fdb5c},
	} {
		if got := crc32.Checksum(tt.data, castagnoli); got != tt.want {
			t.Errorf("%s: crc32c = %#x, want %#x", tt.name, got, tt.want)
		}
	}
	// Placed in an SCTP checksum field, the zero vector's CRC reads aa 36
	// 91 8a on the wire: a packet whose bytes after the header are 20
	// zeros, with a zero header, sums like 32 zeros.
	p := make([]byte, 32)
	binary.LittleEndian.PutUint32(p[8:], sctpChecksum(p))
	if got, want := hex.EncodeToString(p[8:12]), "aa36918a"; got != want {
		t.Errorf("checksum bytes = %s, want %s", got, want)
	}
	if !sctpChecksumOK(p) {
		t.Error("sctpChecksumOK rejects its own checksum")
	}
	p[20] = 1
	if sctpChecksumOK(p) {
		t.Error("sctpChecksumOK accepts a corrupted packet")
	}
}

func TestSCTPInitRoundTrip(t *testing.T) {
	b := sctpInitPacket(50000, 9, 0xdeadbeef, 77)
	if len(b) != 32 {
		t.Errorf("INIT is %d bytes, want 32 (12 header, 4 chunk header, 16 fixed)", len(b))
	}
	if !sctpChecksumOK(b) {
		t.Fatal("INIT checksum wrong")
	}
	p, err := parseSCTP(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.SrcPort != 50000 || p.DstPort != 9 || p.Tag != 0 || len(p.Chunks) != 1 || p.Chunks[0].Type != sctpChunkInit {
		t.Fatalf("parsed INIT = %+v", p)
	}
	in, err := parseSCTPInit(p.Chunks[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	want := sctpInit{Tag: 0xdeadbeef, Window: 1 << 16, OutStreams: 10, InStreams: 65535, TSN: 77}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("INIT mismatch (-want +got):\n%s", diff)
	}
}

func TestSCTPAnswer(t *testing.T) {
	n := uint32(0)
	r := sctpResponder{Ports: []uint16{9, 3868}, Rand: func() uint32 { n++; return n * 0x01010101 }}
	init := sctpInitPacket(50000, 9, 0xcafe, 1)

	// A listening port: INIT ACK with our tag, a cookie and the right
	// checksum, which the probe accepts.
	ack := r.answer(init)
	if ack == nil {
		t.Fatal("no answer to an INIT on a listening port")
	}
	if accepted, ok := sctpReply(ack, 50000, 9, 0xcafe); !accepted || !ok {
		t.Errorf("probe does not accept the INIT ACK: accepted %v ok %v", accepted, ok)
	}
	p, err := parseSCTP(ack)
	if err != nil {
		t.Fatal(err)
	}
	if p.SrcPort != 9 || p.DstPort != 50000 || p.Tag != 0xcafe || len(p.Chunks) != 1 || p.Chunks[0].Type != sctpChunkInitAck {
		t.Fatalf("INIT ACK = %+v", p)
	}
	in, err := parseSCTPInit(p.Chunks[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if in.Tag == 0 || in.OutStreams != 10 || in.InStreams != 10 || len(in.Params) != 1 || in.Params[0].Type != sctpParamStateCookie || len(in.Params[0].Value) != 24 {
		t.Errorf("INIT ACK value = %+v", in)
	}

	// Another probe's tag, ports, or a corrupted packet: ignored.
	for name, check := range map[string]func() (bool, bool){
		"tag":      func() (bool, bool) { return sctpReply(ack, 50000, 9, 0xbeef) },
		"src port": func() (bool, bool) { return sctpReply(ack, 50001, 9, 0xcafe) },
		"dst port": func() (bool, bool) { return sctpReply(ack, 50000, 10, 0xcafe) },
		"checksum": func() (bool, bool) {
			bad := bytes.Clone(ack)
			bad[len(bad)-1] ^= 1
			return sctpReply(bad, 50000, 9, 0xcafe)
		},
		"an INIT": func() (bool, bool) { return sctpReply(sctpInitPacket(9, 50000, 0xcafe, 1), 50000, 9, 0xcafe) },
	} {
		if accepted, ok := check(); accepted || ok {
			t.Errorf("%s: reply taken (accepted %v ok %v), want ignored", name, accepted, ok)
		}
	}

	// No listener: ABORT with the INIT's tag, T bit clear, which the probe
	// reads as refused.
	abort := r.answer(sctpInitPacket(50000, 80, 0xcafe, 1))
	if accepted, ok := sctpReply(abort, 50000, 80, 0xcafe); accepted || !ok {
		t.Errorf("ABORT: accepted %v ok %v, want refused", accepted, ok)
	}
	if p, err := parseSCTP(abort); err != nil || p.Tag != 0xcafe || p.Chunks[0].Type != sctpChunkAbort || p.Chunks[0].Flags != 0 {
		t.Errorf("ABORT = %+v, %v", p, err)
	}

	// Packets an endpoint must not answer.
	withTag := sctpPacket{SrcPort: 1, DstPort: 9, Tag: 5, Chunks: []sctpChunk{{Type: sctpChunkInit, Value: (&sctpInit{Tag: 1, OutStreams: 1, InStreams: 1}).marshal()}}}
	bundled := sctpPacket{SrcPort: 1, DstPort: 9, Chunks: []sctpChunk{{Type: sctpChunkInit, Value: (&sctpInit{Tag: 1, OutStreams: 1, InStreams: 1}).marshal()}, {Type: 0}}}
	zeroTag := sctpPacket{SrcPort: 1, DstPort: 9, Chunks: []sctpChunk{{Type: sctpChunkInit, Value: (&sctpInit{OutStreams: 1, InStreams: 1}).marshal()}}}
	noStreams := sctpPacket{SrcPort: 1, DstPort: 9, Chunks: []sctpChunk{{Type: sctpChunkInit, Value: (&sctpInit{Tag: 1}).marshal()}}}
	corrupt := bytes.Clone(init)
	corrupt[20] ^= 1
	for name, b := range map[string][]byte{
		"INIT ACK":          ack,
		"ABORT":             abort,
		"nonzero INIT vtag": withTag.marshal(),
		"bundled INIT":      bundled.marshal(),
		"zero initiate tag": zeroTag.marshal(),
		"zero streams":      noStreams.marshal(),
		"bad checksum":      corrupt,
		"short":             init[:10],
	} {
		if out := r.answer(b); out != nil {
			t.Errorf("%s: answered %x, want no answer", name, out)
		}
	}
}

func TestParseSCTPErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		hex  string
	}{
		{"short header", "0001000200000000000000"},
		{"no chunks", "000100020000000000000000"},
		{"short chunk header", "000100020000000000000000010000"},
		{"chunk length below 4", "00010002000000000000000001000003"},
		{"chunk longer than packet", "00010002000000000000000001000010"},
	} {
		b, _ := hex.DecodeString(tt.hex)
		if p, err := parseSCTP(b); err == nil {
			t.Errorf("%s: parseSCTP = %+v, want an error", tt.name, p)
		}
	}
	// The last chunk may omit its padding.
	b, _ := hex.DecodeString("000100020000000000000000060000050a")
	if p, err := parseSCTP(b); err != nil || len(p.Chunks) != 1 || !bytes.Equal(p.Chunks[0].Value, []byte{0x0a}) {
		t.Errorf("unpadded last chunk: %+v, %v", p, err)
	}
}

// FuzzParseSCTP feeds arbitrary packets to the parser, the responder and
// the probe's reply check: none may panic, a parsed packet must survive
// marshal and parse unchanged, and any answer must be a well-formed
// packet addressed back to the sender.
func FuzzParseSCTP(f *testing.F) {
	r := sctpResponder{Ports: []uint16{9}, Rand: func() uint32 { return 0x12345678 }}
	init := sctpInitPacket(50000, 9, 0xcafe, 1)
	f.Add(init)
	f.Add(r.answer(init))
	f.Add(r.answer(sctpInitPacket(50000, 10, 0xcafe, 1)))
	f.Add([]byte{})
	f.Add(make([]byte, 12))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= sctpHeaderLen && b[0]&1 == 1 {
			// Random bytes almost never carry the right checksum; fix it
			// for half the inputs so the responder's checks get fuzzed.
			binary.LittleEndian.PutUint32(b[8:], sctpChecksum(b))
		}
		sctpReply(b, 50000, 9, 0xcafe)
		p, err := parseSCTP(b)
		if out := r.answer(b); out != nil {
			if err != nil {
				t.Fatalf("answered an unparsable packet: %v", err)
			}
			q, err := parseSCTP(out)
			if err != nil || !sctpChecksumOK(out) {
				t.Fatalf("answer does not parse: %v", err)
			}
			if q.SrcPort != p.DstPort || q.DstPort != p.SrcPort || q.Tag == 0 {
				t.Fatalf("answer %+v to %+v", q, p)
			}
		}
		if err != nil {
			return
		}
		again, err := parseSCTP(p.marshal())
		if err != nil {
			t.Fatalf("marshal of %+v does not parse: %v", p, err)
		}
		again.Checksum = p.Checksum
		if diff := cmp.Diff(p, again, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s", diff)
		}
		for _, c := range p.Chunks {
			if c.Type != sctpChunkInit && c.Type != sctpChunkInitAck {
				continue
			}
			in, err := parseSCTPInit(c.Value)
			if err != nil {
				continue
			}
			in2, err := parseSCTPInit(in.marshal())
			if err != nil {
				t.Fatalf("marshal of %+v does not parse: %v", in, err)
			}
			if diff := cmp.Diff(in, in2, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
				t.Fatalf("init round trip mismatch (-first +second):\n%s", diff)
			}
		}
	})
}
