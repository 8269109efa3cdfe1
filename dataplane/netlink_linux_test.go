//go:build linux

package dataplane

import (
	"context"
	"errors"
	"fmt"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/google/go-cmp/cmp"
	"go4.org/netipx"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
	"github.com/bulkhead/bulkhead/nft/nfttest"
	"github.com/vishvananda/netns"
)

func TestPrivilegedApplyReadBack(t *testing.T) {
	ns := netnstest.New(t)
	a := newApplier(t, ns, "")
	rs := nfttest.Sample("")
	if err := a.Apply(ctx(t), rs); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	checkRead(t, a, rs)
	t.Log(listTable(t, ns, "bulkhead"))
}

// TestPrivilegedMatchesNft loads the same ruleset with this package in one
// namespace and with `nft -f` of its rendering in another, and compares
// `nft list table` of both: the netlink translation is the one nft makes
// of the text, expression for expression, as nft decodes them.
func TestPrivilegedMatchesNft(t *testing.T) {
	rs := nfttest.Sample("")
	viaNetlink, viaNft := netnstest.New(t), netnstest.New(t)
	if err := newApplier(t, viaNetlink, "").Apply(ctx(t), rs); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	mustNft(t, viaNft, nft.Render(rs), "-f", "-")
	if diff := cmp.Diff(listTable(t, viaNft, "bulkhead"), listTable(t, viaNetlink, "bulkhead")); diff != "" {
		t.Errorf("nft list table (-nft -f +netlink):\n%s", diff)
	}
}

// txLog records the transactions a Netlink applier logs.
type txLog struct {
	mu  sync.Mutex
	txs []tx
}

type tx struct {
	full            bool
	messages, elems int64
}

func (l *txLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *txLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *txLog) WithGroup(string) slog.Handler            { return l }
func (l *txLog) Handle(_ context.Context, r slog.Record) error {
	var x tx
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "full":
			x.full = a.Value.Bool()
		case "messages":
			x.messages = a.Value.Int64()
		case "elements":
			x.elems = a.Value.Int64()
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.txs = append(l.txs, x)
	return nil
}

func (l *txLog) last(t *testing.T) tx {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.txs) == 0 {
		t.Fatal("no transaction logged")
	}
	return l.txs[len(l.txs)-1]
}

func (l *txLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.txs)
}

func withLog(l *txLog) func(*Config) {
	return func(c *Config) { c.Logger = slog.New(l) }
}

// TestPrivilegedIncremental checks that pod churn sends only elements, a
// policy change only the changed chain, and that the kernel ends up with
// the new ruleset each time.
func TestPrivilegedIncremental(t *testing.T) {
	ns := netnstest.New(t)
	var log txLog
	a := newApplier(t, ns, "", withLog(&log))
	rs := nfttest.Sample("")
	if err := a.Apply(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	if !log.last(t).full {
		t.Error("first Apply was not a full replace")
	}

	// A pod appears and one goes.
	rs = rs.Clone()
	m := rs.Map("ingress_v4")
	m.Elems = append(m.Elems[1:], nft.MapElem{Key: nft.AddrElem(netip.MustParseAddr("10.1.0.77")), Verdict: nft.JumpTo("ingress_web")})
	if err := a.Apply(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	if got := log.last(t); got.full || got.messages != 2 || got.elems != 2 {
		t.Errorf("pod churn: transaction %+v, want one delete and one add message of one element each", got)
	}
	checkRead(t, a, rs)

	// A peer block widens: interval elements are replaced.
	rs = rs.Clone()
	v4, _ := nft.AddrElems(model.IPBlock(netip.MustParsePrefix("10.0.0.0/8")))
	rs.Set("peers_v4").Elems = v4
	if err := a.Apply(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	if got := log.last(t); got.full || got.messages != 2 {
		t.Errorf("peer change: transaction %+v, want two element messages", got)
	}
	checkRead(t, a, rs)

	// A policy changes: one chain is swapped.
	rs = rs.Clone()
	web := rs.Chain("ingress_web")
	web.Rules = append([]nft.Rule{{Stmts: []nft.Stmt{nft.L4ProtoIs{Proto: nft.ProtoSCTP}, nft.VerdictDrop}, Comment: "new rule"}}, web.Rules...)
	if err := a.Apply(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	if got := log.last(t); got.full || got.messages != int64(1+len(web.Rules)) {
		t.Errorf("chain change: transaction %+v, want a flush and %d rules", got, len(web.Rules))
	}
	checkRead(t, a, rs)

	// Nothing changes: no transaction.
	n := log.count()
	if err := a.Apply(ctx(t), rs.Clone()); err != nil {
		t.Fatal(err)
	}
	if log.count() != n {
		t.Error("an unchanged ruleset sent a transaction")
	}
}

// TestPrivilegedRandomUpdates applies a chain of random changes with this
// package in one namespace and the same changes as `nft -f` of
// nft.RenderDelta in another, and checks after each that both tables list
// the same and read back as the ruleset.
func TestPrivilegedRandomUpdates(t *testing.T) {
	steps := 60
	if testing.Short() {
		steps = 15
	}
	viaNetlink, viaNft := netnstest.New(t), netnstest.New(t)
	a := newApplier(t, viaNetlink, "bh_random")
	g := nfttest.NewGen(11)
	var prev *nft.Ruleset
	rs := g.Ruleset("bh_random")
	for i := range steps {
		if err := a.Apply(ctx(t), rs); err != nil {
			t.Fatalf("step %d: Apply: %v\nruleset:\n%s", i, err, nft.Render(rs))
		}
		checkRead(t, a, rs)
		delta := nft.RenderDelta(nft.Diff(prev, rs))
		mustNft(t, viaNft, delta, "-f", "-")
		if diff := cmp.Diff(sameFamilyChecks(listTable(t, viaNft, "bh_random")), sameFamilyChecks(listTable(t, viaNetlink, "bh_random"))); diff != "" {
			t.Fatalf("step %d: nft list table (-nft -f +netlink):\n%s\ndelta:\n%s", i, diff, delta)
		}
		prev, rs = rs, g.Mutate(rs)
	}
}

var explicitFamily = regexp.MustCompile(`meta nfproto (ipv4 ip|ipv6 ip6) `)

// sameFamilyChecks removes an explicit family match right before an
// address match of that family, which nft merges with the address
// match's own check and this package does not (see encode_linux.go).
func sameFamilyChecks(s string) string {
	return explicitFamily.ReplaceAllStringFunc(s, func(m string) string {
		return strings.TrimPrefix(strings.TrimPrefix(m, "meta nfproto ipv4 "), "meta nfproto ipv6 ")
	})
}

// TestPrivilegedNftAcceptsRender checks that nft reads Render's text.
func TestPrivilegedNftAcceptsRender(t *testing.T) {
	ns := netnstest.New(t)
	mustNft(t, ns, nft.Render(nfttest.Sample("")), "-c", "-f", "-")
	g := nfttest.NewGen(5)
	for range 20 {
		mustNft(t, ns, nft.Render(g.Ruleset("")), "-c", "-f", "-")
	}
}

// TestPrivilegedInvalidRulesetUntouched checks that a ruleset Validate
// rejects never reaches the kernel.
func TestPrivilegedInvalidRulesetUntouched(t *testing.T) {
	ns := netnstest.New(t)
	a := newApplier(t, ns, "")
	rs := nfttest.Sample("")
	if err := a.Apply(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	bad := rs.Clone()
	bad.Chain("egress_dns").Rules[0].Stmts = []nft.Stmt{nft.JumpTo("missing_chain")}
	bad.Set("local_v4").Elems = append(bad.Set("local_v4").Elems, nft.AddrElem(netip.MustParseAddr("10.9.9.9")))
	err := a.Apply(ctx(t), bad)
	if err == nil || !strings.Contains(err.Error(), `chain "missing_chain" not found`) || !strings.Contains(err.Error(), "kernel untouched") {
		t.Fatalf("Apply(jump to missing chain) = %v", err)
	}
	checkRead(t, a, rs)
	if a.Applied() == nil || nft.Render(a.Applied()) != nft.Render(rs) {
		t.Error("Applied changed after a rejected ruleset")
	}
	if err := a.Apply(ctx(t), &nft.Ruleset{Table: "someone_else"}); err == nil {
		t.Error("Apply accepted a ruleset for another table")
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Apply(cancelled, nfttest.Sample("")); err != nil {
		t.Errorf("Apply of the applied ruleset with a cancelled context = %v, want nil (nothing to do)", err)
	}
	if err := a.Apply(cancelled, bad.Clone()); err == nil {
		t.Error("Apply with a cancelled context succeeded")
	}
	next := rs.Clone()
	next.Set("local_v4").Elems = nil
	if err := a.Apply(cancelled, next); err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with a cancelled context = %v, want context.Canceled", err)
	}
	checkRead(t, a, rs)
}

// TestPrivilegedRejectedBatchIsAtomic sends the kernel a batch it rejects
// (element additions, then a rule jumping to a missing chain, which
// Validate would have caught) and checks that none of it took effect.
func TestPrivilegedRejectedBatchIsAtomic(t *testing.T) {
	ns := netnstest.New(t)
	a := newApplier(t, ns, "")
	rs := nfttest.Sample("")
	if err := a.Apply(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	next := rs.Clone()
	local := next.Set("local_v4")
	for i := range 1000 {
		local.Elems = append(local.Elems, nft.AddrElem(netip.AddrFrom4([4]byte{10, 8, byte(i >> 8), byte(i)})))
	}
	next.Chain("egress_dns").Rules[2].Stmts = []nft.Stmt{nft.JumpTo("missing_chain")}
	d := nft.Diff(rs, next)
	_, err := a.k.commit(ctx(t), d, intervalOf(next))
	if err == nil {
		t.Fatal("the kernel accepted a jump to a missing chain")
	}
	t.Logf("kernel error: %v", err)
	checkRead(t, a, rs)
}

// TestPrivilegedDriftConverges changes the table behind the applier's
// back so that its next incremental transaction fails in the kernel, and
// checks that the table is left as it was, the error is reported, and the
// following Apply replaces the table and converges.
func TestPrivilegedDriftConverges(t *testing.T) {
	ns := netnstest.New(t)
	a := newApplier(t, ns, "")
	rs, drifted := applyAndDrift(t, ns, a)
	next := rs.Clone()
	next.Set("local_v4").Elems = next.Set("local_v4").Elems[:1] // deletes 10.1.0.2 again
	next.Set("peers_v4").Elems = nil
	if err := a.Apply(ctx(t), next); err == nil {
		t.Fatal("Apply succeeded although the element it deletes is gone")
	} else if !strings.Contains(err.Error(), "previous ruleset kept") {
		t.Errorf("Apply: %v", err)
	}
	checkRead(t, a, drifted)
	if err := a.Apply(ctx(t), next); err != nil {
		t.Fatalf("Apply after a failure: %v", err)
	}
	checkRead(t, a, next)

	// Read refuses rules bulkhead does not write, rather than hiding them.
	mustNft(t, ns, "", "add", "rule", "inet", "bulkhead", "ingress_web", "tcp", "dport", "22", "accept")
	if _, err := a.Read(ctx(t)); err == nil || !strings.Contains(err.Error(), "unrecognized expressions") {
		t.Errorf("Read of a hand-added rule = %v", err)
	}

	// Reset makes the next Apply replace the table too.
	mustNft(t, ns, "", "add", "element", "inet", "bulkhead", "local_v4", "{ 10.1.0.99 }")
	a.Reset()
	if err := a.Apply(ctx(t), next); err != nil {
		t.Fatal(err)
	}
	checkRead(t, a, next)
}

// applyAndDrift applies the sample ruleset with a, then deletes its
// element 10.1.0.2 of local_v4 behind a's back, and returns the sample
// and the table as it is then.
func applyAndDrift(t *testing.T, ns netns.NsHandle, a *Netlink) (rs, drifted *nft.Ruleset) {
	t.Helper()
	rs = nfttest.Sample("")
	if err := a.Apply(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	mustNft(t, ns, "", "delete", "element", "inet", "bulkhead", "local_v4", "{ 10.1.0.2 }")
	drifted, err := a.Read(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return rs, drifted
}

// TestPrivilegedRestartConverges starts a second applier on a table the
// first one made, as after an agent restart, and checks that it converges
// and that no other table is touched.
func TestPrivilegedRestartConverges(t *testing.T) {
	ns := netnstest.New(t)
	others := "table inet other_tbl {\n\tchain c_fwd {\n\t\ttype filter hook forward priority 5; policy accept;\n\t\tcounter\n\t}\n}\ntable ip bulkhead {\n\tset s_1 {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1 }\n\t}\n}\n"
	mustNft(t, ns, others, "-f", "-")
	before := mustNft(t, ns, "", "list", "table", "inet", "other_tbl") + mustNft(t, ns, "", "list", "table", "ip", "bulkhead")

	first := newApplier(t, ns, "")
	if err := first.Apply(ctx(t), nfttest.Sample("")); err != nil {
		t.Fatal(err)
	}
	second := newApplier(t, ns, "")
	want := nfttest.Sample("")
	want.Map("ingress_v4").Elems = nil
	if err := second.Apply(ctx(t), want); err != nil {
		t.Fatalf("Apply after restart: %v", err)
	}
	checkRead(t, second, want)
	third := newApplier(t, ns, "")
	if err := third.Apply(ctx(t), want); err != nil {
		t.Fatalf("Apply of the same ruleset after restart: %v", err)
	}
	checkRead(t, third, want)
	if err := third.Delete(ctx(t)); err != nil {
		t.Fatal(err)
	}
	checkRead(t, third, nil)
	if err := third.Delete(ctx(t)); err != nil {
		t.Fatalf("Delete of a missing table: %v", err)
	}
	after := mustNft(t, ns, "", "list", "table", "inet", "other_tbl") + mustNft(t, ns, "", "list", "table", "ip", "bulkhead")
	if before != after {
		t.Errorf("other tables changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestPrivilegedJumpDepthMatchesKernel checks nft.MaxJumpDepth against the
// kernel: it accepts chains that deep and rejects one more.
func TestPrivilegedJumpDepthMatchesKernel(t *testing.T) {
	ns := netnstest.New(t)
	a := newApplier(t, ns, "")
	for depth := nft.MaxJumpDepth - 1; depth <= nft.MaxJumpDepth+1; depth++ {
		rs := &nft.Ruleset{Chains: []nft.Chain{{Name: "base_b", Hook: nft.HookForward, Policy: nft.PolicyAccept, Rules: []nft.Rule{{Stmts: []nft.Stmt{nft.JumpTo("c_1")}}}}}}
		for i := 1; i <= depth; i++ {
			c := nft.Chain{Name: fmt.Sprintf("c_%d", i)}
			if i < depth {
				c.Rules = []nft.Rule{{Stmts: []nft.Stmt{nft.JumpTo(fmt.Sprintf("c_%d", i+1))}}}
			}
			rs.Chains = append(rs.Chains, c)
		}
		validErr := nft.Validate(rs)
		_, kernelErr := a.k.commit(ctx(t), nft.Full(rs), nil)
		if (validErr == nil) != (kernelErr == nil) {
			t.Errorf("depth %d: Validate: %v; kernel: %v", depth, validErr, kernelErr)
		}
	}
}

// TestPrivilegedLargeBatch applies 20,000 set elements and 20,000 map
// elements in one transaction, checks them, then checks that a batch of
// 20,000 more that the kernel rejects at its end leaves none behind.
func TestPrivilegedLargeBatch(t *testing.T) {
	ns := netnstest.New(t)
	var log txLog
	a := newApplier(t, ns, "", withLog(&log))
	const n = 20000
	rs := nfttest.Large("", n, 0)
	if err := a.Apply(ctx(t), rs); err != nil {
		t.Fatalf("Apply of %d elements: %v", 2*n, err)
	}
	tx := log.last(t)
	if !tx.full || tx.elems < 3*n {
		t.Errorf("transaction %+v, want a full replace with at least %d kernel elements", tx, 3*n)
	}
	checkRead(t, a, rs)

	// With the system's default buffer size the same batch does not fit:
	// raising the buffers is what keeps it in one transaction.
	small := newApplier(t, ns, "", func(c *Config) { c.SocketBuffer = 1 << 16 })
	err := small.Apply(ctx(t), nfttest.Large("", n, 1))
	if err == nil || !strings.Contains(err.Error(), "send buffer") {
		t.Errorf("Apply with a 64 KiB socket buffer = %v, want a send buffer error", err)
	}
	checkRead(t, a, rs)

	next := nfttest.Large("", n, n)
	next.Chains[1].Rules = append(next.Chains[1].Rules, nft.Rule{Stmts: []nft.Stmt{nft.JumpTo("missing_chain")}})
	if _, err := a.k.commit(ctx(t), nft.Diff(rs, next), intervalOf(next)); err == nil {
		t.Fatal("the kernel accepted a jump to a missing chain")
	}
	checkRead(t, a, rs)
}

// TestPrivilegedManyRules applies 5,000 rules with comments in one
// transaction (each rule is its own netlink message, echoed back by the
// kernel) and replaces one chain of 100 of them.
func TestPrivilegedManyRules(t *testing.T) {
	ns := netnstest.New(t)
	var log txLog
	a := newApplier(t, ns, "", withLog(&log))
	rs := &nft.Ruleset{}
	for c := range 50 {
		ch := nft.Chain{Name: fmt.Sprintf("pol_%d", c)}
		for i := range 100 {
			ch.Rules = append(ch.Rules, nft.Rule{
				Stmts:   []nft.Stmt{nft.AddrIs{Key: nft.KeySrc4, Addr: netip.AddrFrom4([4]byte{10, byte(c), byte(i), 1})}, nft.Counter{}, nft.VerdictAccept},
				Comment: fmt.Sprintf("networkpolicy ns/pol-%d ingress[%d]", c, i),
			})
		}
		rs.Chains = append(rs.Chains, ch)
	}
	if err := a.Apply(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	checkRead(t, a, rs)
	next := rs.Clone()
	next.Chains[3].Rules = next.Chains[3].Rules[1:]
	if err := a.Apply(ctx(t), next); err != nil {
		t.Fatal(err)
	}
	if got := log.last(t); got.full || got.messages != 100 {
		t.Errorf("transaction %+v, want a flush and 99 rules", got)
	}
	checkRead(t, a, next)
}

// TestPrivilegedEdgeElements applies elements at the edges of their
// types' ranges and adjacent intervals, reads them back and compares the
// kernel's listing with nft's reading of the rendered text.
func TestPrivilegedEdgeElements(t *testing.T) {
	r := netipx.MustParseIPRange
	p := netip.MustParseAddr
	rs := &nft.Ruleset{
		Sets: []nft.Set{
			{Name: "all_v4", Type: nft.TypeIPv4Addr, Interval: true, Elems: []nft.Elem{{Addr: r("0.0.0.0-255.255.255.255")}}},
			{Name: "all_v6", Type: nft.TypeIPv6Addr, Interval: true, Elems: []nft.Elem{{Addr: r("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")}}},
			{Name: "ends_v4", Type: nft.TypeIPv4Addr, Interval: true, Elems: []nft.Elem{
				nft.AddrElem(p("0.0.0.0")), {Addr: r("10.0.0.0-10.0.0.255")}, {Addr: r("10.0.1.0-10.0.1.9")}, nft.AddrElem(p("255.255.255.255")),
			}},
			{Name: "ends_v6", Type: nft.TypeIPv6Addr, Interval: true, Elems: []nft.Elem{
				nft.AddrElem(p("::")), {Addr: r("fd00::-fd00::ff")}, nft.AddrElem(p("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
			}},
			{Name: "ports_all", Type: nft.TypeProtoPort, Interval: true, Elems: []nft.Elem{
				{Proto: nft.ProtoTCP, Ports: model.PortRange{First: 0, Last: 65535}},
				{Proto: 255, Ports: model.PortRange{First: 65535, Last: 65535}},
				{Proto: nft.ProtoUDP, Ports: model.PortRange{First: 1, Last: 1}},
			}},
			{Name: "wide_v6", Type: nft.TypeIPv6ProtoPort, Interval: true, Elems: []nft.Elem{
				{Addr: r("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), Proto: nft.ProtoSCTP, Ports: model.PortRange{First: 0, Last: 65535}},
			}},
			{Name: "pairs_v4", Type: nft.TypeIPv4AddrPair, Interval: true, Elems: []nft.Elem{
				{Addr: r("0.0.0.0-255.255.255.255"), Addr2: r("10.0.0.1-10.0.0.1")},
			}},
		},
		Maps: []nft.Map{{Name: "blocks_v4", Type: nft.TypeIPv4Addr, Interval: true, Elems: []nft.MapElem{
			{Key: nft.Elem{Addr: r("10.0.0.0-10.0.0.255")}, Verdict: nft.VerdictAccept},
			{Key: nft.Elem{Addr: r("10.0.1.0-10.0.1.255")}, Verdict: nft.VerdictDrop},
			{Key: nft.Elem{Addr: r("200.0.0.0-255.255.255.255")}, Verdict: nft.JumpTo("chain_x")},
		}}},
		Chains: []nft.Chain{
			{Name: "filter_fwd", Hook: nft.HookForward, Policy: nft.PolicyAccept, Rules: []nft.Rule{
				{Stmts: []nft.Stmt{nft.VMap{Key: nft.KeySrc4, Map: "blocks_v4"}}},
			}},
			{Name: "chain_x"},
		},
	}
	if err := nft.Validate(rs); err != nil {
		t.Fatal(err)
	}
	viaNetlink, viaNft := netnstest.New(t), netnstest.New(t)
	a := newApplier(t, viaNetlink, "")
	if err := a.Apply(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	checkRead(t, a, rs)
	mustNft(t, viaNft, nft.Render(rs), "-f", "-")
	if diff := cmp.Diff(listTable(t, viaNft, "bulkhead"), listTable(t, viaNetlink, "bulkhead")); diff != "" {
		t.Errorf("nft list table (-nft -f +netlink):\n%s", diff)
	}
	// Elements leave and come back at the edges too.
	next := rs.Clone()
	next.Set("ends_v4").Elems = next.Set("ends_v4").Elems[1:3]
	next.Map("blocks_v4").Elems = next.Map("blocks_v4").Elems[1:]
	for _, step := range []*nft.Ruleset{next, rs} {
		if err := a.Apply(ctx(t), step); err != nil {
			t.Fatal(err)
		}
		checkRead(t, a, step)
	}
}

// TestPrivilegedApplyDelta follows a chain of random changes with
// ApplyDelta and checks after each that the kernel's table reads back as
// the ruleset, that every transaction after the first was incremental,
// and that another table in the namespace is never touched.
func TestPrivilegedApplyDelta(t *testing.T) {
	steps := 60
	if testing.Short() {
		steps = 15
	}
	ns := netnstest.New(t)
	others := "table inet other_tbl {\n\tchain c_fwd {\n\t\ttype filter hook forward priority 5; policy accept;\n\t\tcounter\n\t}\n}\n"
	mustNft(t, ns, others, "-f", "-")
	before := mustNft(t, ns, "", "list", "table", "inet", "other_tbl")
	var log txLog
	a := newApplier(t, ns, "bh_delta", withLog(&log))
	g := nfttest.NewGen(13)
	var prev *nft.Ruleset
	rs := g.Ruleset("bh_delta")
	for i := range steps {
		n := log.count()
		if err := a.ApplyDelta(ctx(t), prev, rs, nft.Diff(prev, rs)); err != nil {
			t.Fatalf("step %d: ApplyDelta: %v\nruleset:\n%s", i, err, nft.Render(rs))
		}
		checkRead(t, a, rs)
		if i > 0 && log.count() > n && log.last(t).full {
			t.Fatalf("step %d: replaced the table", i)
		}
		prev, rs = rs, g.Mutate(rs)
	}
	if got := mustNft(t, ns, "", "list", "table", "inet", "other_tbl"); got != before {
		t.Errorf("another table changed:\n%s", got)
	}
}

// TestPrivilegedApplyDeltaRejected makes the kernel reject an incremental
// batch that the applier's own check accepts (an element deleted behind
// its back, which the batch deletes again, after a thousand additions) and
// checks that none of the batch took effect, that Applied is unchanged,
// and that the next call replaces the table and converges.
func TestPrivilegedApplyDeltaRejected(t *testing.T) {
	ns := netnstest.New(t)
	var log txLog
	a := newApplier(t, ns, "", withLog(&log))
	rs, drifted := applyAndDrift(t, ns, a)
	next := rs.Clone()
	local := next.Set("local_v4")
	local.Elems = local.Elems[:1] // deletes 10.1.0.2 again
	peers := next.Set("peers_v4")
	for i := range 1000 {
		peers.Elems = append(peers.Elems, nft.AddrElem(netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)})))
	}
	d := nft.Diff(rs, next)
	if err := a.ApplyDelta(ctx(t), rs, next, d); err == nil {
		t.Fatal("ApplyDelta succeeded although the element it deletes is gone")
	} else if !strings.Contains(err.Error(), "incremental update") || !strings.Contains(err.Error(), "previous ruleset kept") {
		t.Errorf("ApplyDelta: %v", err)
	}
	checkRead(t, a, drifted)
	if nft.Render(a.Applied()) != nft.Render(rs) {
		t.Error("Applied changed after a rejected batch")
	}
	n := log.count()
	if err := a.ApplyDelta(ctx(t), rs, next, d); err != nil {
		t.Fatalf("ApplyDelta after a rejected batch: %v", err)
	}
	if log.count() != n+1 || !log.last(t).full {
		t.Error("the call after a rejected batch did not replace the table")
	}
	checkRead(t, a, next)
}
