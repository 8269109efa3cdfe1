//go:build linux

package dataplane

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"go4.org/netipx"
	"golang.org/x/sys/unix"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
)

// This file reads a table back from the kernel into an nft.Ruleset. It
// recognizes exactly the expressions encode_linux.go writes (which are
// nft's), so anything else in the table, such as a rule someone added by
// hand, is reported as an error rather than silently dropped.

// readTable returns the table as the kernel has it, or nil if it does
// not exist.
func readTable(c *nftables.Conn, dial func() (*netlink.Conn, error), name string) (*nft.Ruleset, error) {
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var table *nftables.Table
	for _, t := range tables {
		if t.Name == name {
			table = t
		}
	}
	if table == nil {
		return nil, nil
	}
	rs := &nft.Ruleset{Table: name}
	if name == nft.DefaultTable {
		rs.Table = ""
	}

	sets, err := listSets(dial, name)
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		elems, err := c.GetSetElements(&nftables.Set{Table: table, Name: s.name})
		if err != nil {
			return nil, fmt.Errorf("set %q: list elements: %w", s.name, err)
		}
		keys, verdicts, err := decodeElems(s.typ, s.interval, s.isMap, elems)
		if err != nil {
			return nil, fmt.Errorf("set %q: %w", s.name, err)
		}
		if s.isMap {
			m := nft.Map{Name: s.name, Type: s.typ, Interval: s.interval, Comment: s.comment}
			for i := range keys {
				m.Elems = append(m.Elems, nft.MapElem{Key: keys[i], Verdict: verdicts[i]})
			}
			rs.Maps = append(rs.Maps, m)
		} else {
			rs.Sets = append(rs.Sets, nft.Set{Name: s.name, Type: s.typ, Interval: s.interval, Comment: s.comment, Elems: keys})
		}
	}

	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, fmt.Errorf("list chains: %w", err)
	}
	for _, ch := range chains {
		if ch.Table.Name != name {
			continue
		}
		out, err := decodeChain(ch)
		if err != nil {
			return nil, err
		}
		rules, err := c.GetRules(table, ch)
		if err != nil {
			return nil, fmt.Errorf("chain %q: list rules: %w", ch.Name, err)
		}
		for i, r := range rules {
			rule, err := decodeRule(r)
			if err != nil {
				return nil, fmt.Errorf("chain %q: rule %d: %w", ch.Name, i, err)
			}
			out.Rules = append(out.Rules, rule)
		}
		rs.Chains = append(rs.Chains, out)
	}
	return rs, nil
}

func decodeChain(ch *nftables.Chain) (nft.Chain, error) {
	out := nft.Chain{Name: ch.Name}
	if ch.Hooknum == nil {
		return out, nil
	}
	if ch.Type != nftables.ChainTypeFilter {
		return out, fmt.Errorf("chain %q: type %s, want filter", ch.Name, ch.Type)
	}
	switch *ch.Hooknum {
	case *nftables.ChainHookPrerouting:
		out.Hook = nft.HookPrerouting
	case *nftables.ChainHookInput:
		out.Hook = nft.HookInput
	case *nftables.ChainHookForward:
		out.Hook = nft.HookForward
	case *nftables.ChainHookOutput:
		out.Hook = nft.HookOutput
	case *nftables.ChainHookPostrouting:
		out.Hook = nft.HookPostrouting
	default:
		return out, fmt.Errorf("chain %q: unknown hook %d", ch.Name, *ch.Hooknum)
	}
	if ch.Priority != nil {
		out.Priority = int32(*ch.Priority)
	}
	out.Policy = nft.PolicyAccept
	if ch.Policy != nil && *ch.Policy == nftables.ChainPolicyDrop {
		out.Policy = nft.PolicyDrop
	}
	return out, nil
}

// setInfo is what listSets reads of a set or map.
type setInfo struct {
	name     string
	typ      nft.SetType
	interval bool
	isMap    bool
	comment  string
}

// listSets dumps the sets and maps of table. It decodes the replies itself
// because google/nftables v0.3.0 loses a verdict map's key type (it
// stores the data type over it) and does not return set comments.
func listSets(dial func() (*netlink.Conn, error), table string) ([]setInfo, error) {
	conn, err := dial()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	attrs, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: unix.NFTA_SET_TABLE, Data: append([]byte(table), 0)}})
	if err != nil {
		return nil, err
	}
	req := netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETSET),
			Flags: netlink.Request | netlink.Dump,
		},
		Data: append([]byte{unix.NFPROTO_INET, unix.NFNETLINK_V0, 0, 0}, attrs...),
	}
	msgs, err := conn.Execute(req)
	if err != nil {
		return nil, fmt.Errorf("list sets: %w", err)
	}
	var out []setInfo
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			return nil, err
		}
		ad.ByteOrder = binary.BigEndian
		var s setInfo
		var flags, keyMagic, dataType uint32
		for ad.Next() {
			switch ad.Type() {
			case unix.NFTA_SET_NAME:
				s.name = ad.String()
			case unix.NFTA_SET_FLAGS:
				flags = ad.Uint32()
			case unix.NFTA_SET_KEY_TYPE:
				keyMagic = ad.Uint32()
			case unix.NFTA_SET_DATA_TYPE:
				dataType = ad.Uint32()
			case unix.NFTA_SET_USERDATA:
				s.comment, _ = userdata.GetString(ad.Bytes(), userdata.NFTNL_UDATA_SET_COMMENT)
			}
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
		s.interval = flags&unix.NFT_SET_INTERVAL != 0
		s.isMap = flags&unix.NFT_SET_MAP != 0
		if s.isMap && dataType != unix.NFT_DATA_VERDICT {
			return nil, fmt.Errorf("map %q: data type %#x, want verdict", s.name, dataType)
		}
		if flags&(unix.NFT_SET_ANONYMOUS|unix.NFT_SET_TIMEOUT|unix.NFT_SET_OBJECT) != 0 {
			return nil, fmt.Errorf("set %q: unexpected flags %#x", s.name, flags)
		}
		s.typ = setTypeOf(keyMagic)
		if s.typ == nft.TypeUnknown {
			return nil, fmt.Errorf("set %q: unknown key type %#x", s.name, keyMagic)
		}
		out = append(out, s)
	}
	return out, nil
}

func setTypeOf(magic uint32) nft.SetType {
	for _, t := range nft.SetTypes {
		kt := keyType(t)
		if kt.GetNFTMagic() == magic {
			return t
		}
	}
	return nft.TypeUnknown
}

// decodeElems turns kernel elements back into nft elements, pairing the
// start and end elements of single-field interval sets.
func decodeElems(t nft.SetType, interval, isMap bool, elems []nftables.SetElement) ([]nft.Elem, []nft.Verdict, error) {
	var keys []nft.Elem
	var verdicts []nft.Verdict
	add := func(e nft.Elem, k nftables.SetElement) error {
		keys = append(keys, e)
		if !isMap {
			return nil
		}
		v, err := decodeVerdictData(k.Val)
		if err != nil {
			return fmt.Errorf("element %v: %w", e, err)
		}
		verdicts = append(verdicts, v)
		return nil
	}
	if !interval || t.IsConcat() {
		for _, k := range elems {
			from, err := decodeKey(t, k.Key)
			if err != nil {
				return nil, nil, err
			}
			to := from
			if interval {
				if to, err = decodeKey(t, k.KeyEnd); err != nil {
					return nil, nil, err
				}
			}
			e := nft.Elem{
				Addr:  netipx.IPRangeFrom(from.Addr.From(), to.Addr.From()),
				Addr2: netipx.IPRangeFrom(from.Addr2.From(), to.Addr2.From()),
				Proto: from.Proto,
				Ports: model.PortRange{First: from.Ports.First, Last: to.Ports.First},
			}
			if t.Family() == nft.FamilyUnknown {
				e.Addr = netipx.IPRange{}
			}
			if !t.IsAddrPair() {
				e.Addr2 = netipx.IPRange{}
			}
			if err := add(e, k); err != nil {
				return nil, nil, err
			}
		}
		return keys, verdicts, nil
	}
	// rbtree: sort by key, an end before a start at the same key (the end
	// of one interval and the start of the next).
	sorted := slices.Clone(elems)
	slices.SortStableFunc(sorted, func(a, b nftables.SetElement) int {
		if c := bytes.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		switch {
		case a.IntervalEnd == b.IntervalEnd:
			return 0
		case a.IntervalEnd:
			return -1
		}
		return 1
	})
	var open *nftables.SetElement
	var start netip.Addr
	for i := range sorted {
		k := &sorted[i]
		a, ok := netip.AddrFromSlice(k.Key)
		if !ok {
			return nil, nil, fmt.Errorf("bad key %x", k.Key)
		}
		if k.IntervalEnd {
			if open != nil {
				if err := add(nft.Elem{Addr: netipx.IPRangeFrom(start, a.Prev())}, *open); err != nil {
					return nil, nil, err
				}
				open = nil
			}
			continue // a lone end (nft writes one at zero) bounds nothing
		}
		if open != nil {
			return nil, nil, fmt.Errorf("interval starting at %v has no end", start)
		}
		open, start = k, a
	}
	if open != nil {
		// No end element: the interval reaches the top of the family.
		if err := add(nft.Elem{Addr: netipx.IPRangeFrom(start, maxAddr(start))}, *open); err != nil {
			return nil, nil, err
		}
	}
	return keys, verdicts, nil
}

// maxAddr returns the highest address of a's family.
func maxAddr(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.AddrFrom4([4]byte{255, 255, 255, 255})
	}
	var b [16]byte
	for i := range b {
		b[i] = 0xff
	}
	return netip.AddrFrom16(b)
}

// decodeKey decodes a key as keyBytes encodes it, into the From of each
// field.
func decodeKey(t nft.SetType, b []byte) (nft.Elem, error) {
	var e nft.Elem
	orig := b
	addr := func() (netipx.IPRange, error) {
		n := 4
		if t.Family() == nft.IPv6 {
			n = 16
		}
		if len(b) < n {
			return netipx.IPRange{}, fmt.Errorf("key %x too short for %v", orig, t)
		}
		a, _ := netip.AddrFromSlice(b[:n])
		b = b[n:]
		return netipx.IPRangeFrom(a, a), nil
	}
	var err error
	if t.Family() != nft.FamilyUnknown {
		if e.Addr, err = addr(); err != nil {
			return e, err
		}
	}
	if t.IsAddrPair() {
		if e.Addr2, err = addr(); err != nil {
			return e, err
		}
	}
	if t.HasProtoPort() {
		if len(b) < 8 {
			return e, fmt.Errorf("key %x too short for %v", orig, t)
		}
		e.Proto = nft.Proto(b[0])
		p := binary.BigEndian.Uint16(b[4:6])
		e.Ports = model.PortRange{First: p, Last: p}
		b = b[8:]
	}
	if len(b) != 0 {
		return e, fmt.Errorf("key %x too long for %v", orig, t)
	}
	return e, nil
}

// decodeVerdictData decodes the NFTA_DATA_VERDICT attributes of a map
// element: a verdict code and, for jump and goto, a chain.
func decodeVerdictData(b []byte) (nft.Verdict, error) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nft.Verdict{}, err
	}
	ad.ByteOrder = binary.BigEndian
	var code int32
	var chain string
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_VERDICT_CODE:
			code = int32(ad.Uint32())
		case unix.NFTA_VERDICT_CHAIN:
			chain = ad.String()
		}
	}
	if err := ad.Err(); err != nil {
		return nft.Verdict{}, err
	}
	return decodeVerdict(expr.VerdictKind(code), chain)
}

func decodeVerdict(k expr.VerdictKind, chain string) (nft.Verdict, error) {
	switch k {
	case expr.VerdictAccept:
		return nft.VerdictAccept, nil
	case expr.VerdictDrop:
		return nft.VerdictDrop, nil
	case expr.VerdictReturn:
		return nft.VerdictReturn, nil
	case expr.VerdictJump:
		return nft.JumpTo(chain), nil
	case expr.VerdictGoto:
		return nft.GotoChain(chain), nil
	}
	return nft.Verdict{}, fmt.Errorf("unsupported verdict %d", k)
}

// errUnrecognized is returned for expressions bulkhead does not write.
var errUnrecognized = errors.New("unrecognized expressions")

// decodeRule turns a rule's expressions back into statements.
func decodeRule(r *nftables.Rule) (nft.Rule, error) {
	var out nft.Rule
	if r.UserData != nil {
		out.Comment, _ = userdata.GetString(r.UserData, userdata.TypeComment)
	}
	d := ruleDecoder{exprs: r.Exprs}
	for !d.done() {
		s, err := d.stmt()
		if err != nil {
			return out, fmt.Errorf("%w at expression %d of %s", err, d.i, describe(r.Exprs))
		}
		out.Stmts = append(out.Stmts, s)
	}
	return out, nil
}

type ruleDecoder struct {
	exprs []expr.Any
	i     int
}

func (d *ruleDecoder) done() bool { return d.i >= len(d.exprs) }

func (d *ruleDecoder) peek() expr.Any {
	if d.done() {
		return nil
	}
	return d.exprs[d.i]
}

func (d *ruleDecoder) next() expr.Any {
	e := d.peek()
	d.i++
	return e
}

// stmt decodes the statement starting at the current expression.
func (d *ruleDecoder) stmt() (nft.Stmt, error) {
	switch e := d.next().(type) {
	case *expr.Counter:
		return nft.Counter{}, nil
	case *expr.Verdict:
		return decodeVerdict(e.Kind, e.Chain)
	case *expr.Ct:
		bw, ok1 := d.next().(*expr.Bitwise)
		c, ok2 := d.next().(*expr.Cmp)
		if e.Key != expr.CtKeySTATE || !ok1 || !ok2 || c.Op != expr.CmpOpNeq || len(bw.Mask) != 4 || !allZero(c.Data) || !allZero(bw.Xor) {
			return nil, errUnrecognized
		}
		return nft.CtStateIn{States: nft.CtState(binaryutil.NativeEndian.Uint32(bw.Mask))}, nil
	case *expr.Meta:
		switch e.Key {
		case expr.MetaKeyNFPROTO:
			c, ok := d.next().(*expr.Cmp)
			if !ok || c.Op != expr.CmpOpEq || len(c.Data) != 1 {
				return nil, errUnrecognized
			}
			fam := nft.IPv4
			if c.Data[0] == nfprotoIPv6 {
				fam = nft.IPv6
			} else if c.Data[0] != nfprotoIPv4 {
				return nil, errUnrecognized
			}
			if p, ok := d.peek().(*expr.Payload); ok && p.Base == expr.PayloadBaseNetworkHeader {
				// The implicit family check of an address key.
				return d.addrStmt(fam)
			}
			return nft.NFProtoIs{Family: fam}, nil
		case expr.MetaKeyL4PROTO:
			if c, ok := d.peek().(*expr.Cmp); ok {
				d.next()
				if c.Op != expr.CmpOpEq || len(c.Data) != 1 {
					return nil, errUnrecognized
				}
				return nft.L4ProtoIs{Proto: nft.Proto(c.Data[0])}, nil
			}
			if !d.dport() {
				return nil, errUnrecognized
			}
			return d.lookup(nft.KeyProtoPort)
		}
	}
	return nil, errUnrecognized
}

// dport consumes an optional byteorder and the load of `th dport`.
func (d *ruleDecoder) dport() bool {
	if _, ok := d.peek().(*expr.Byteorder); ok {
		d.next()
	}
	p, ok := d.next().(*expr.Payload)
	return ok && p.Base == expr.PayloadBaseTransportHeader && p.Offset == 2 && p.Len == 2
}

// addrStmt decodes what follows the family check of an address key.
func (d *ruleDecoder) addrStmt(fam nft.Family) (nft.Stmt, error) {
	p := d.next().(*expr.Payload)
	var key nft.Key
	for _, k := range nft.Keys[:4] {
		if off, n := addrPayload(k); off == p.Offset && n == p.Len && k.Type().Family() == fam {
			key = k
		}
	}
	if key == nft.KeyUnknown {
		return nil, errUnrecognized
	}
	if q, ok := d.peek().(*expr.Payload); ok && q.Base == expr.PayloadBaseNetworkHeader {
		// `ip saddr . ip daddr`: the destination right after the source.
		d.next()
		pair := map[nft.Key]nft.Key{nft.KeySrc4: nft.KeyAddrPair4, nft.KeySrc6: nft.KeyAddrPair6}[key]
		if pair == nft.KeyUnknown || q.Offset != p.Offset+p.Len || q.Len != p.Len {
			return nil, errUnrecognized
		}
		return d.lookup(pair)
	}
	switch e := d.peek().(type) {
	case *expr.Cmp:
		d.next()
		a, ok := netip.AddrFromSlice(e.Data)
		if !ok || (e.Op != expr.CmpOpEq && e.Op != expr.CmpOpNeq) {
			return nil, errUnrecognized
		}
		return nft.AddrIs{Key: key, Addr: a, Neg: e.Op == expr.CmpOpNeq}, nil
	case *expr.Meta:
		d.next()
		if e.Key != expr.MetaKeyL4PROTO || !d.dport() {
			return nil, errUnrecognized
		}
		key = map[nft.Key]nft.Key{
			nft.KeySrc4: nft.KeySrc4ProtoPort, nft.KeyDst4: nft.KeyDst4ProtoPort,
			nft.KeySrc6: nft.KeySrc6ProtoPort, nft.KeyDst6: nft.KeyDst6ProtoPort,
		}[key]
	}
	return d.lookup(key)
}

// lookup decodes a set or verdict-map lookup of key.
func (d *ruleDecoder) lookup(key nft.Key) (nft.Stmt, error) {
	l, ok := d.next().(*expr.Lookup)
	if !ok {
		return nil, errUnrecognized
	}
	if l.IsDestRegSet {
		if l.DestRegister != unix.NFT_REG_VERDICT || l.Invert {
			return nil, errUnrecognized
		}
		return nft.VMap{Key: key, Map: l.SetName}, nil
	}
	return nft.InSet{Key: key, Set: l.SetName, Neg: l.Invert}, nil
}

func allZero(b []byte) bool { return !slices.ContainsFunc(b, func(x byte) bool { return x != 0 }) }

func describe(exprs []expr.Any) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range exprs {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%T", e)
	}
	b.WriteByte(']')
	return b.String()
}
