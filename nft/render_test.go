package nft_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/nfttest"
)

func TestRenderSample(t *testing.T) {
	rs := nfttest.Sample("")
	if err := nft.Validate(rs); err != nil {
		t.Fatalf("sample is invalid: %v", err)
	}
	testutil.Golden(t, "sample.nft", []byte(nft.Render(rs)))
}

// TestRenderDeterministic checks that the order of chains, sets, maps and
// elements in the value does not change the text.
func TestRenderDeterministic(t *testing.T) {
	rs := nfttest.Sample("")
	shuffled := rs.Clone()
	reverse := func(n int, swap func(i, j int)) {
		for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
			swap(i, j)
		}
	}
	reverse(len(shuffled.Chains), func(i, j int) { shuffled.Chains[i], shuffled.Chains[j] = shuffled.Chains[j], shuffled.Chains[i] })
	reverse(len(shuffled.Sets), func(i, j int) { shuffled.Sets[i], shuffled.Sets[j] = shuffled.Sets[j], shuffled.Sets[i] })
	reverse(len(shuffled.Maps), func(i, j int) { shuffled.Maps[i], shuffled.Maps[j] = shuffled.Maps[j], shuffled.Maps[i] })
	for i := range shuffled.Sets {
		e := shuffled.Sets[i].Elems
		reverse(len(e), func(i, j int) { e[i], e[j] = e[j], e[i] })
	}
	if got, want := nft.Render(shuffled), nft.Render(rs); got != want {
		t.Errorf("Render depends on order:\n%s\nvs\n%s", got, want)
	}
}

func TestRenderDelta(t *testing.T) {
	old := nfttest.Sample("")
	new := changedSample()
	d := nft.Diff(old, new)
	testutil.Golden(t, "delta.nft", []byte(nft.RenderDelta(d)))
}

func TestRenderReplace(t *testing.T) {
	rs := &nft.Ruleset{Table: "bh_test", Chains: []nft.Chain{{Name: "c_1"}}}
	got := nft.RenderReplace(rs)
	want := "table inet bh_test\ndelete table inet bh_test\ntable inet bh_test {\n\tchain c_1 {\n\t}\n}\n"
	if got != want {
		t.Errorf("RenderReplace = %q, want %q", got, want)
	}
	if got := nft.RenderDelta(nft.Full(rs)); got != want {
		t.Errorf("RenderDelta(Full) = %q, want %q", got, want)
	}
}

func TestFormatStmt(t *testing.T) {
	tests := []struct {
		stmt nft.Stmt
		want string
	}{
		{nft.CtStateIn{States: nft.CtEstablished | nft.CtRelated}, "ct state established,related"},
		{nft.CtStateIn{States: nft.CtNew | nft.CtUntracked | nft.CtInvalid}, "ct state invalid,new,untracked"},
		{nft.NFProtoIs{Family: nft.IPv6}, "meta nfproto ipv6"},
		{nft.L4ProtoIs{Proto: nft.ProtoSCTP}, "meta l4proto sctp"},
		{nft.L4ProtoIs{Proto: 47}, "meta l4proto 47"},
		{nft.AddrIs{Key: nft.KeySrc4, Addr: netip.MustParseAddr("10.0.0.1")}, "ip saddr 10.0.0.1"},
		{nft.AddrIs{Key: nft.KeyDst6, Addr: netip.MustParseAddr("fd00::1"), Neg: true}, "ip6 daddr != fd00::1"},
		{nft.InSet{Key: nft.KeyProtoPort, Set: "p"}, "meta l4proto . th dport @p"},
		{nft.InSet{Key: nft.KeySrc6ProtoPort, Set: "p", Neg: true}, "ip6 saddr . meta l4proto . th dport != @p"},
		{nft.VMap{Key: nft.KeyDst4, Map: "m"}, "ip daddr vmap @m"},
		{nft.InSet{Key: nft.KeyAddrPair6, Set: "p"}, "ip6 saddr . ip6 daddr @p"},
		{nft.Counter{}, "counter"},
		{nft.GotoChain("x"), "goto x"},
		{nft.VerdictReturn, "return"},
	}
	for _, tt := range tests {
		if got := nft.FormatStmt(tt.stmt); got != tt.want {
			t.Errorf("FormatStmt(%#v) = %q, want %q", tt.stmt, got, tt.want)
		}
	}
}

// changedSample is Sample after a typical sync: a pod gone and one added,
// a peer block widened, a chain's rules changed, a chain and a set added,
// a set removed, a base chain's policy flipped.
func changedSample() *nft.Ruleset {
	rs := nfttest.Sample("")
	m := rs.Map("ingress_v4")
	m.Elems = m.Elems[1:] // 10.1.0.1 gone
	m.Elems = append(m.Elems, nft.MapElem{Key: nft.AddrElem(netip.MustParseAddr("10.1.0.5")), Verdict: nft.JumpTo("ingress_db")})
	m.Elems[0].Verdict = nft.JumpTo("ingress_db") // 10.1.0.2 moves to another policy set
	v4, _ := nft.AddrElems(model.IPBlock(netip.MustParsePrefix("10.0.0.0/8")).Union(model.IPsOf([]netip.Addr{netip.MustParseAddr("192.168.1.7")})))
	rs.Set("peers_v4").Elems = v4
	rs.Sets = append(rs.Sets, nft.Set{Name: "db_ports", Type: nft.TypeProtoPort, Elems: []nft.Elem{{Proto: nft.ProtoTCP, Ports: model.PortRange{First: 5432, Last: 5432}}}})
	rs.Chains = append(rs.Chains, nft.Chain{Name: "ingress_db", Rules: []nft.Rule{
		{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeySrc4, Set: "peers_v4"}, nft.InSet{Key: nft.KeyProtoPort, Set: "db_ports"}, nft.VerdictAccept}, Comment: "networkpolicy prod/db ingress[0]"},
		{Stmts: []nft.Stmt{nft.VerdictDrop}},
	}})
	web := rs.Chain("ingress_web")
	web.Rules = web.Rules[1:]
	rs.Chain("filter_forward").Policy = nft.PolicyDrop
	// egress_dns and its set go away.
	rs.Maps = rs.Maps[:2]
	for i, c := range rs.Chains {
		if c.Name == "egress_dns" {
			rs.Chains = append(rs.Chains[:i], rs.Chains[i+1:]...)
			break
		}
	}
	fwd := rs.Chain("filter_forward")
	fwd.Rules = fwd.Rules[:len(fwd.Rules)-1]
	for i, s := range rs.Sets {
		if s.Name == "dns_v4" {
			rs.Sets = append(rs.Sets[:i], rs.Sets[i+1:]...)
			break
		}
	}
	return rs
}

func TestChangedSampleValid(t *testing.T) {
	if err := nft.Validate(changedSample()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(nft.Render(changedSample()), "ingress_db") {
		t.Fatal("changedSample lacks its new chain")
	}
}
