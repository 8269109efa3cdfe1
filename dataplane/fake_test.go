package dataplane_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/dataplane"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/nfttest"
)

func addPod(rs *nft.Ruleset, addr string) *nft.Ruleset {
	out := rs.Clone()
	m := out.Map("ingress_v4")
	m.Elems = append(m.Elems, nft.MapElem{Key: nft.AddrElem(netip.MustParseAddr(addr)), Verdict: nft.JumpTo("ingress_web")})
	return out
}

func TestFakeApply(t *testing.T) {
	ctx := context.Background()
	f := dataplane.NewFake("")
	rs := nfttest.Sample("")
	if err := f.Apply(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(nft.Render(rs), f.Dump()); diff != "" {
		t.Errorf("Dump (-want +got):\n%s", diff)
	}
	next := addPod(rs, "10.1.0.50")
	if err := f.Apply(ctx, next); err != nil {
		t.Fatal(err)
	}
	deltas := f.Deltas()
	if len(deltas) != 2 || deltas[0].Replace == nil || deltas[1].Replace != nil || len(deltas[1].AddMapElems) != 1 {
		t.Errorf("deltas: first must replace the table, second add one map element; got %d deltas: %v", len(deltas), deltas)
	}
	got, err := f.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(nft.Render(next), nft.Render(got)); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
	if f.Applied() == nil || nft.Render(f.Applied()) != nft.Render(next) {
		t.Error("Applied is not the last ruleset")
	}
	// The applier keeps its own copy.
	next.Map("ingress_v4").Elems = nil
	if nft.Render(f.Applied()) == nft.Render(next) {
		t.Error("Applied shares memory with the caller's ruleset")
	}
}

func TestFakeFailsClosed(t *testing.T) {
	ctx := context.Background()
	f := dataplane.NewFake("")
	rs := nfttest.Sample("")
	if err := f.Apply(ctx, rs); err != nil {
		t.Fatal(err)
	}
	before := f.Dump()
	boom := errors.New("boom")
	f.FailNext(boom)
	err := f.Apply(ctx, addPod(rs, "10.1.0.50"))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "previous ruleset kept") {
		t.Fatalf("Apply = %v, want boom", err)
	}
	if f.Dump() != before || nft.Render(f.Applied()) != nft.Render(rs) {
		t.Error("a failed Apply changed the table or the baseline")
	}
	// After a failure the next transaction replaces the table.
	if err := f.Apply(ctx, addPod(rs, "10.1.0.51")); err != nil {
		t.Fatal(err)
	}
	if d := f.Deltas(); d[len(d)-1].Replace == nil {
		t.Error("the Apply after a failure did not replace the table")
	}

	// An invalid ruleset never reaches the table.
	commits := f.Commits()
	bad := rs.Clone()
	bad.Chains[0].Rules = append(bad.Chains[0].Rules, nft.Rule{Stmts: []nft.Stmt{nft.JumpTo("nowhere")}})
	if err := f.Apply(ctx, bad); err == nil || !strings.Contains(err.Error(), "kernel untouched") {
		t.Errorf("Apply(invalid) = %v", err)
	}
	if f.Commits() != commits {
		t.Error("an invalid ruleset was committed")
	}

	// FailWhen fails every matching transaction.
	f.FailWhen(func(d nft.Delta) error {
		if len(d.ReplaceChains) > 0 {
			return boom
		}
		return nil
	})
	changed := addPod(rs, "10.1.0.51")
	changed.Chain("egress_dns").Rules = changed.Chain("egress_dns").Rules[1:]
	if err := f.Apply(ctx, changed); !errors.Is(err, boom) {
		t.Errorf("Apply with FailWhen = %v, want boom", err)
	}
	f.FailWhen(nil)
	if err := f.Apply(ctx, changed); err != nil {
		t.Errorf("Apply after FailWhen(nil) = %v", err)
	}
}

// TestFakeDrift changes the table behind the applier, so that its next
// delta fails as it would in the kernel, and checks that it converges.
func TestFakeDrift(t *testing.T) {
	ctx := context.Background()
	f := dataplane.NewFake("")
	rs := nfttest.Sample("")
	if err := f.Apply(ctx, rs); err != nil {
		t.Fatal(err)
	}
	f.Tamper(func(rs *nft.Ruleset) *nft.Ruleset {
		rs.Map("ingress_v4").Elems = rs.Map("ingress_v4").Elems[1:]
		return rs
	})
	next := rs.Clone()
	next.Map("ingress_v4").Elems = next.Map("ingress_v4").Elems[1:]
	next = addPod(next, "10.1.0.60")
	if err := f.Apply(ctx, next); err == nil {
		t.Fatal("Apply succeeded although the element it deletes is gone")
	}
	if err := f.Apply(ctx, next); err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	if f.Dump() != nft.Render(next) {
		t.Error("the table did not converge")
	}
	// Reset forces a replace even without a failure.
	f.Tamper(func(*nft.Ruleset) *nft.Ruleset { return nil })
	f.Reset()
	if err := f.Apply(ctx, next); err != nil {
		t.Fatal(err)
	}
	if f.Dump() != nft.Render(next) {
		t.Error("Reset did not make the next Apply replace the table")
	}
}

func TestFakeDelete(t *testing.T) {
	ctx := context.Background()
	f := dataplane.NewFake("bh_test")
	if err := f.Apply(ctx, nfttest.Sample("")); err == nil {
		t.Error("Apply accepted a ruleset for another table")
	}
	if err := f.Apply(ctx, nfttest.Sample("bh_test")); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if rs, err := f.Read(ctx); err != nil || rs != nil || f.Applied() != nil || f.Dump() != "" {
		t.Errorf("after Delete: Read = %v, %v; Applied = %v", rs, err, f.Applied())
	}
}

// TestFakeApplyDelta follows a ruleset with ApplyDelta: incremental
// transactions of exactly the delta while the base is the last ruleset
// applied, Apply's behaviour otherwise, and the table kept as the kernel
// would have it after refused and failed deltas.
func TestFakeApplyDelta(t *testing.T) {
	ctx := context.Background()
	f := dataplane.NewFake("")
	rs := nfttest.Sample("")
	// No table yet: the delta is ignored and the table replaced.
	if err := f.ApplyDelta(ctx, nil, rs, nft.Full(rs)); err != nil {
		t.Fatal(err)
	}
	next := addPod(rs, "10.1.0.50")
	d := nft.Diff(rs, next)
	if err := f.ApplyDelta(ctx, rs, next, d); err != nil {
		t.Fatal(err)
	}
	deltas := f.Deltas()
	if diff := cmp.Diff(nft.RenderDelta(d), nft.RenderDelta(deltas[len(deltas)-1])); diff != "" {
		t.Errorf("committed delta (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(nft.Render(next), f.Dump()); diff != "" {
		t.Errorf("Dump (-want +got):\n%s", diff)
	}
	if nft.Render(f.Applied()) != nft.Render(next) {
		t.Error("Applied is not the ruleset after the delta")
	}

	// A base that is not the last ruleset applied (an equal copy): the
	// applier diffs next against its table instead.
	again := addPod(next, "10.1.0.51")
	if err := f.ApplyDelta(ctx, next.Clone(), again, nft.Delta{Table: "bulkhead"}); err != nil {
		t.Fatal(err)
	}
	if f.Dump() != nft.Render(again) {
		t.Error("ApplyDelta with another base did not apply next")
	}

	// A delta the table refuses (an element that exists) never reaches
	// the kernel, and the next delta is still incremental.
	commits := f.Commits()
	bad := nft.Delta{Table: "bulkhead", AddMapElems: []nft.Map{*again.Map("ingress_v4")}}
	if err := f.ApplyDelta(ctx, again, addPod(again, "10.1.0.52"), bad); err == nil || !strings.Contains(err.Error(), "kernel untouched") {
		t.Errorf("ApplyDelta(bad delta) = %v", err)
	}
	if f.Commits() != commits || f.Dump() != nft.Render(again) {
		t.Error("a refused delta was committed")
	}
	// The refused call's next is not the base of anything: this delta
	// from again is.
	third := addPod(again, "10.1.0.53")
	if err := f.ApplyDelta(ctx, again, third, nft.Diff(again, third)); err != nil {
		t.Fatal(err)
	}
	if d := f.Deltas(); d[len(d)-1].Replace != nil || len(d[len(d)-1].AddMapElems) != 1 {
		t.Error("the delta after a refused one was not incremental")
	}

	// An incremental batch that fails: table and Applied unchanged, and
	// the next call replaces the table whole.
	boom := errors.New("boom")
	f.FailNext(boom)
	before := f.Dump()
	fourth := addPod(third, "10.1.0.54")
	if err := f.ApplyDelta(ctx, third, fourth, nft.Diff(third, fourth)); !errors.Is(err, boom) || !strings.Contains(err.Error(), "previous ruleset kept") {
		t.Fatalf("ApplyDelta with a failing batch = %v", err)
	}
	if f.Dump() != before || nft.Render(f.Applied()) != before {
		t.Error("a failed batch changed the table or Applied")
	}
	if err := f.ApplyDelta(ctx, third, fourth, nft.Diff(third, fourth)); err != nil {
		t.Fatal(err)
	}
	if d := f.Deltas(); d[len(d)-1].Replace == nil {
		t.Error("the call after a failed batch did not replace the table")
	}
	if f.Dump() != nft.Render(fourth) {
		t.Error("the table did not converge after a failed batch")
	}

	// Deltas for another table are refused.
	if err := f.ApplyDelta(ctx, fourth, addPod(fourth, "10.1.0.55"), nft.Delta{Table: "other"}); err == nil {
		t.Error("ApplyDelta accepted a delta for another table")
	}
}

// TestFakeApplyDeltaRandom follows random changes with ApplyDelta and
// checks the table against the rulesets after each.
func TestFakeApplyDeltaRandom(t *testing.T) {
	ctx := context.Background()
	f := dataplane.NewFake("")
	g := nfttest.NewGen(5)
	var prev *nft.Ruleset
	rs := g.Ruleset("")
	for i := range 200 {
		if err := f.ApplyDelta(ctx, prev, rs, nft.Diff(prev, rs)); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if diff := cmp.Diff(nft.Render(rs), f.Dump()); diff != "" {
			t.Fatalf("step %d: Dump (-want +got):\n%s", i, diff)
		}
		if i > 0 && f.Deltas()[len(f.Deltas())-1].Replace != nil {
			t.Fatalf("step %d: replaced the table", i)
		}
		prev, rs = rs, g.Mutate(rs)
	}
}
