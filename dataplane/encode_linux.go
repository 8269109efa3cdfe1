//go:build linux

package dataplane

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"go4.org/netipx"
	"golang.org/x/sys/unix"

	"github.com/bulkhead/bulkhead/nft"
)

// This file translates nft values to google/nftables calls that queue
// netlink messages on a Conn; nothing is sent until Flush. The expressions
// are those nft 1.0 generates for the text Render writes, register for
// register, so that `nft list table` shows the same rules whether the
// table came from `nft -f` or from this package (a privileged test checks
// it). One difference is deliberate: every address match carries its own
// `meta nfproto` check, even right after an explicit nft.NFProtoIs of the
// same family (nft would share one), so that reading the table back gives
// the statements that were applied.

// Registers as nft allocates them: NFT_REG_1 is the first 16-byte
// register, and NFT_REG32_00 + n the n-th 32-bit one, aliasing it.
const (
	reg1     = unix.NFT_REG_1
	reg2     = unix.NFT_REG_2
	reg32_01 = unix.NFT_REG32_01
	reg32_02 = unix.NFT_REG32_02
	reg32_05 = unix.NFT_REG32_05
)

// maxElemBytes bounds the element list of one NEWSETELEM or DELSETELEM
// message: its length is a 16-bit netlink attribute length, so larger
// lists are split over several messages of the same batch, which stays
// one transaction.
const maxElemBytes = 32 << 10

// encoder queues the messages of one batch.
type encoder struct {
	c     *nftables.Conn
	table *nftables.Table
	// sets holds the sets and maps created in this batch, whose ID lets
	// rules refer to them before the batch commits.
	sets   map[string]*nftables.Set
	nextID uint32
	// interval tells the interval flag of the table's sets and maps that
	// the batch does not create.
	interval func(string) bool
	// counts for logging and error messages
	msgs, elems int
}

// newEncoder returns an encoder queueing on c the messages of a batch
// for table; interval tells the interval flag of the sets and maps the
// batch does not create.
func newEncoder(c *nftables.Conn, table string, interval func(string) bool) *encoder {
	return &encoder{
		c:        c,
		table:    &nftables.Table{Name: (&nft.Ruleset{Table: table}).TableName(), Family: nftables.TableFamilyINet},
		sets:     map[string]*nftables.Set{},
		interval: interval,
	}
}

// replace queues the deletion of the table, if it exists, and its
// creation with everything in rs: "add table" first, so that the deletion
// succeeds whether or not the table exists, all in one transaction.
func (e *encoder) replace(rs *nft.Ruleset) error {
	rs = rs.Canonical()
	e.c.AddTable(e.table)
	e.c.DelTable(e.table)
	e.c.AddTable(e.table)
	e.msgs += 3
	for _, ch := range rs.Chains {
		e.addChain(ch)
	}
	for _, s := range rs.Sets {
		if err := e.addSet(s); err != nil {
			return err
		}
	}
	for _, m := range rs.Maps {
		if err := e.addMap(m); err != nil {
			return err
		}
	}
	for _, ch := range rs.Chains {
		if err := e.addRules(ch); err != nil {
			return err
		}
	}
	return nil
}

// delta queues d in the order nft.Delta documents.
func (e *encoder) delta(d nft.Delta) error {
	if d.Replace != nil {
		return e.replace(d.Replace)
	}
	for _, ch := range d.AddChains {
		e.addChain(ch)
	}
	for _, s := range d.AddSets {
		if err := e.addSet(s); err != nil {
			return err
		}
	}
	for _, m := range d.AddMaps {
		if err := e.addMap(m); err != nil {
			return err
		}
	}
	for _, s := range d.DelElems {
		if err := e.setElems(e.setRef(s.Name, s.Type, s.Interval, false), s.Type, s.Interval, s.Elems, nil, false); err != nil {
			return err
		}
	}
	for _, m := range d.DelMapElems {
		keys := make([]nft.Elem, len(m.Elems))
		for i, el := range m.Elems {
			keys[i] = el.Key
		}
		if err := e.setElems(e.setRef(m.Name, m.Type, m.Interval, true), m.Type, m.Interval, keys, nil, false); err != nil {
			return err
		}
	}
	for _, s := range d.AddElems {
		if err := e.setElems(e.setRef(s.Name, s.Type, s.Interval, false), s.Type, s.Interval, s.Elems, nil, true); err != nil {
			return err
		}
	}
	for _, m := range d.AddMapElems {
		keys, verdicts := splitMapElems(m.Elems)
		if err := e.setElems(e.setRef(m.Name, m.Type, m.Interval, true), m.Type, m.Interval, keys, verdicts, true); err != nil {
			return err
		}
	}
	for _, ch := range d.ReplaceChains {
		c := e.chainRef(ch)
		if ch.IsBase() {
			// Declaring a base chain again updates its policy.
			e.c.AddChain(c)
			e.msgs++
		}
		e.c.FlushChain(c)
		e.msgs++
		if err := e.addRules(ch); err != nil {
			return err
		}
	}
	for _, ch := range d.AddChains {
		if err := e.addRules(ch); err != nil {
			return err
		}
	}
	for _, name := range d.DelChains {
		e.c.FlushChain(&nftables.Chain{Name: name, Table: e.table})
		e.msgs++
	}
	for _, name := range d.DelMaps {
		e.c.DelSet(&nftables.Set{Name: name, Table: e.table})
		e.msgs++
	}
	for _, name := range d.DelSets {
		e.c.DelSet(&nftables.Set{Name: name, Table: e.table})
		e.msgs++
	}
	for _, name := range d.DelChains {
		e.c.DelChain(&nftables.Chain{Name: name, Table: e.table})
		e.msgs++
	}
	return nil
}

func (e *encoder) chainRef(ch nft.Chain) *nftables.Chain {
	c := &nftables.Chain{Name: ch.Name, Table: e.table}
	if ch.IsBase() {
		c.Hooknum = nftables.ChainHookRef(hookNum(ch.Hook))
		c.Priority = nftables.ChainPriorityRef(nftables.ChainPriority(ch.Priority))
		c.Type = nftables.ChainTypeFilter
		p := nftables.ChainPolicyAccept
		if ch.Policy == nft.PolicyDrop {
			p = nftables.ChainPolicyDrop
		}
		c.Policy = &p
	}
	return c
}

func hookNum(h nft.Hook) nftables.ChainHook {
	switch h {
	case nft.HookPrerouting:
		return *nftables.ChainHookPrerouting
	case nft.HookInput:
		return *nftables.ChainHookInput
	case nft.HookForward:
		return *nftables.ChainHookForward
	case nft.HookOutput:
		return *nftables.ChainHookOutput
	case nft.HookPostrouting:
		return *nftables.ChainHookPostrouting
	}
	panic(fmt.Sprintf("dataplane: hook %v of a validated ruleset", h))
}

func (e *encoder) addChain(ch nft.Chain) {
	e.c.AddChain(e.chainRef(ch))
	e.msgs++
}

func (e *encoder) addRules(ch nft.Chain) error {
	c := &nftables.Chain{Name: ch.Name, Table: e.table}
	for i, r := range ch.Rules {
		exprs, err := e.ruleExprs(r)
		if err != nil {
			return fmt.Errorf("chain %q: rule %d: %w", ch.Name, i, err)
		}
		rule := &nftables.Rule{Table: e.table, Chain: c, Exprs: exprs}
		if r.Comment != "" {
			rule.UserData = userdata.AppendString(nil, userdata.TypeComment, r.Comment)
		}
		e.c.AddRule(rule)
		e.msgs++
	}
	return nil
}

// keyType returns the kernel datatype of a set type.
func keyType(t nft.SetType) nftables.SetDatatype {
	switch t {
	case nft.TypeIPv4Addr:
		return nftables.TypeIPAddr
	case nft.TypeIPv6Addr:
		return nftables.TypeIP6Addr
	case nft.TypeProtoPort:
		return nftables.MustConcatSetType(nftables.TypeInetProto, nftables.TypeInetService)
	case nft.TypeIPv4ProtoPort:
		return nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetProto, nftables.TypeInetService)
	case nft.TypeIPv6ProtoPort:
		return nftables.MustConcatSetType(nftables.TypeIP6Addr, nftables.TypeInetProto, nftables.TypeInetService)
	case nft.TypeIPv4AddrPair:
		return nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeIPAddr)
	case nft.TypeIPv6AddrPair:
		return nftables.MustConcatSetType(nftables.TypeIP6Addr, nftables.TypeIP6Addr)
	}
	panic(fmt.Sprintf("dataplane: set type %v of a validated ruleset", t))
}

// setRef describes a set for google/nftables. A set created in this batch
// keeps the ID it was created with.
func (e *encoder) setRef(name string, t nft.SetType, interval, isMap bool) *nftables.Set {
	if s, ok := e.sets[name]; ok {
		return s
	}
	s := &nftables.Set{
		Table:        e.table,
		Name:         name,
		KeyType:      keyType(t),
		Interval:     interval,
		IsMap:        isMap,
		KeyByteOrder: binaryutil.BigEndian,
		// The kernel picks the pipapo backend, which needs the field
		// lengths, for concatenations with intervals only; nft sets
		// the concat flag only then.
		Concatenation: interval && t.IsConcat(),
	}
	if isMap {
		s.DataType = nftables.TypeVerdict
	}
	return s
}

func (e *encoder) newSet(name string, t nft.SetType, interval, isMap bool, comment string) (*nftables.Set, error) {
	s := e.setRef(name, t, interval, isMap)
	e.nextID++
	s.ID = e.nextID // per batch; avoids the library's global counter
	s.Comment = comment
	if err := e.c.AddSet(s, nil); err != nil {
		return nil, fmt.Errorf("set %q: %w", name, err)
	}
	e.msgs++
	e.sets[name] = s
	return s, nil
}

func (e *encoder) addSet(s nft.Set) error {
	ref, err := e.newSet(s.Name, s.Type, s.Interval, false, s.Comment)
	if err != nil {
		return err
	}
	return e.setElems(ref, s.Type, s.Interval, s.Elems, nil, true)
}

func (e *encoder) addMap(m nft.Map) error {
	ref, err := e.newSet(m.Name, m.Type, m.Interval, true, m.Comment)
	if err != nil {
		return err
	}
	keys, verdicts := splitMapElems(m.Elems)
	return e.setElems(ref, m.Type, m.Interval, keys, verdicts, true)
}

func splitMapElems(elems []nft.MapElem) ([]nft.Elem, []nft.Verdict) {
	keys := make([]nft.Elem, len(elems))
	verdicts := make([]nft.Verdict, len(elems))
	for i, e := range elems {
		keys[i], verdicts[i] = e.Key, e.Verdict
	}
	return keys, verdicts
}

// setElems queues the addition (or deletion) of elems, with verdicts for
// maps (nil for sets and for deletions), split into messages of at most
// maxElemBytes.
func (e *encoder) setElems(s *nftables.Set, t nft.SetType, interval bool, elems []nft.Elem, verdicts []nft.Verdict, add bool) error {
	var batch []nftables.SetElement
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var err error
		if add {
			err = e.c.SetAddElements(s, batch)
		} else {
			err = e.c.SetDeleteElements(s, batch)
		}
		if err != nil {
			return fmt.Errorf("set %q: %w", s.Name, err)
		}
		e.msgs++
		batch, size = nil, 0
		return nil
	}
	for i, el := range elems {
		var v *nft.Verdict
		if verdicts != nil {
			v = &verdicts[i]
		}
		for _, k := range kernelElems(t, interval, el, v) {
			// Attribute headers, key, key end, flags and verdict.
			n := 16 + len(k.Key) + len(k.KeyEnd) + 8
			if k.VerdictData != nil {
				n += 24 + len(k.VerdictData.Chain)
			}
			if size+n > maxElemBytes {
				if err := flush(); err != nil {
					return err
				}
			}
			batch = append(batch, k)
			size += n
			e.elems++
		}
	}
	return flush()
}

// kernelElems returns the kernel elements of el. A single-field interval
// set (the rbtree backend) holds an interval as a start element and an
// end element one past its last value, flagged as an interval end; an
// interval reaching the top of the address space has no end element.
// Concatenations with intervals (pipapo) hold each element with its key
// end. Exact sets hold the key alone.
func kernelElems(t nft.SetType, interval bool, el nft.Elem, v *nft.Verdict) []nftables.SetElement {
	var data *expr.Verdict
	if v != nil {
		data = verdictExpr(*v)
	}
	from, to := el, el
	from.Addr = netipx.IPRangeFrom(el.Addr.From(), el.Addr.From())
	from.Addr2 = netipx.IPRangeFrom(el.Addr2.From(), el.Addr2.From())
	from.Ports.Last = from.Ports.First
	to.Addr = netipx.IPRangeFrom(el.Addr.To(), el.Addr.To())
	to.Addr2 = netipx.IPRangeFrom(el.Addr2.To(), el.Addr2.To())
	to.Ports.First = to.Ports.Last
	switch {
	case !interval:
		return []nftables.SetElement{{Key: keyBytes(t, from), VerdictData: data}}
	case t.IsConcat():
		return []nftables.SetElement{{Key: keyBytes(t, from), KeyEnd: keyBytes(t, to), VerdictData: data}}
	}
	out := []nftables.SetElement{{Key: keyBytes(t, from), VerdictData: data}}
	if next := el.Addr.To().Next(); next.IsValid() {
		out = append(out, nftables.SetElement{Key: addrBytes(next), IntervalEnd: true})
	}
	return out
}

// keyBytes encodes the start of every field of el as the kernel compares
// keys: network byte order, each field padded to 4 bytes.
func keyBytes(t nft.SetType, el nft.Elem) []byte {
	var b []byte
	if t.Family() != nft.FamilyUnknown {
		b = append(b, addrBytes(el.Addr.From())...)
	}
	if t.IsAddrPair() {
		b = append(b, addrBytes(el.Addr2.From())...)
	}
	if t.HasProtoPort() {
		b = append(b, byte(el.Proto), 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, el.Ports.First)
		b = append(b, 0, 0)
	}
	return b
}

func addrBytes(a netip.Addr) []byte { return a.AsSlice() }

func verdictExpr(v nft.Verdict) *expr.Verdict {
	switch v.Kind {
	case nft.Accept:
		return &expr.Verdict{Kind: expr.VerdictAccept}
	case nft.Drop:
		return &expr.Verdict{Kind: expr.VerdictDrop}
	case nft.Jump:
		return &expr.Verdict{Kind: expr.VerdictJump, Chain: v.Chain}
	case nft.Goto:
		return &expr.Verdict{Kind: expr.VerdictGoto, Chain: v.Chain}
	case nft.Return:
		return &expr.Verdict{Kind: expr.VerdictReturn}
	}
	panic(fmt.Sprintf("dataplane: verdict %v of a validated ruleset", v))
}

// nfproto values of meta nfproto.
const (
	nfprotoIPv4 = unix.NFPROTO_IPV4
	nfprotoIPv6 = unix.NFPROTO_IPV6
)

// addrPayload returns where key's address is in the network header.
func addrPayload(k nft.Key) (offset, length uint32) {
	switch k {
	case nft.KeySrc4, nft.KeySrc4ProtoPort:
		return 12, 4
	case nft.KeyDst4, nft.KeyDst4ProtoPort:
		return 16, 4
	case nft.KeySrc6, nft.KeySrc6ProtoPort:
		return 8, 16
	case nft.KeyDst6, nft.KeyDst6ProtoPort:
		return 24, 16
	case nft.KeyAddrPair4:
		return 12, 4
	case nft.KeyAddrPair6:
		return 8, 16
	}
	return 0, 0
}

// keyExprs loads key k into register reg1 (and the following registers
// for concatenations) as nft does, including the implicit `meta nfproto`
// check of address keys in an inet table. interval adds the byteorder
// nft puts on the protocol field of interval-set lookups (a no-op for one
// byte).
func keyExprs(k nft.Key, interval bool) []expr.Any {
	var out []expr.Any
	protoReg, portReg := uint32(reg1), uint32(reg32_01)
	if f := k.Type().Family(); f != nft.FamilyUnknown {
		proto := byte(nfprotoIPv4)
		protoReg, portReg = reg32_01, reg32_02
		if f == nft.IPv6 {
			proto = nfprotoIPv6
			protoReg, portReg = reg2, reg32_05
		}
		off, n := addrPayload(k)
		out = append(out,
			&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: reg1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{proto}},
			&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		)
		if k.Type().IsAddrPair() {
			// The destination follows the source in the header and in
			// the next register: reg 9 after 4 bytes, reg 2 after 16.
			out = append(out, &expr.Payload{DestRegister: protoReg, Base: expr.PayloadBaseNetworkHeader, Offset: off + n, Len: n})
		}
	}
	if k.Type().HasProtoPort() {
		out = append(out, &expr.Meta{Key: expr.MetaKeyL4PROTO, Register: protoReg})
		if interval {
			out = append(out, &expr.Byteorder{SourceRegister: protoReg, DestRegister: protoReg, Op: expr.ByteorderHton, Len: 1, Size: 2})
		}
		out = append(out, &expr.Payload{DestRegister: portReg, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2})
	}
	return out
}

// lookupInfo returns the interval flag of the set or map name in the
// ruleset being applied, and its ID if this batch creates it.
func (e *encoder) lookupInfo(name string) (bool, uint32) {
	if s, ok := e.sets[name]; ok {
		return s.Interval, s.ID
	}
	if e.interval == nil {
		return false, 0
	}
	return e.interval(name), 0
}

// ruleExprs translates a rule's statements.
func (e *encoder) ruleExprs(r nft.Rule) ([]expr.Any, error) {
	var out []expr.Any
	for _, s := range r.Stmts {
		switch s := s.(type) {
		case nft.CtStateIn:
			out = append(out,
				&expr.Ct{Register: reg1, Key: expr.CtKeySTATE},
				&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
					Mask: binaryutil.NativeEndian.PutUint32(uint32(s.States)), Xor: make([]byte, 4)},
				&expr.Cmp{Op: expr.CmpOpNeq, Register: reg1, Data: make([]byte, 4)},
			)
		case nft.NFProtoIs:
			proto := byte(nfprotoIPv4)
			if s.Family == nft.IPv6 {
				proto = nfprotoIPv6
			}
			out = append(out,
				&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: reg1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{proto}},
			)
		case nft.L4ProtoIs:
			out = append(out,
				&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{byte(s.Proto)}},
			)
		case nft.AddrIs:
			op := expr.CmpOpEq
			if s.Neg {
				op = expr.CmpOpNeq
			}
			out = append(out, keyExprs(s.Key, false)...)
			out = append(out, &expr.Cmp{Op: op, Register: reg1, Data: addrBytes(s.Addr)})
		case nft.InSet:
			interval, id := e.lookupInfo(s.Set)
			out = append(out, keyExprs(s.Key, interval)...)
			out = append(out, &expr.Lookup{SourceRegister: reg1, SetName: s.Set, SetID: id, Invert: s.Neg})
		case nft.VMap:
			interval, id := e.lookupInfo(s.Map)
			out = append(out, keyExprs(s.Key, interval)...)
			out = append(out, &expr.Lookup{SourceRegister: reg1, DestRegister: unix.NFT_REG_VERDICT, IsDestRegSet: true, SetName: s.Map, SetID: id})
		case nft.Counter:
			out = append(out, &expr.Counter{})
		case nft.Verdict:
			out = append(out, verdictExpr(s))
		default:
			return nil, fmt.Errorf("statement %T has no netlink translation", s)
		}
	}
	return out, nil
}
