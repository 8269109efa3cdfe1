package compile_test

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
)

// TestGolden compiles the bundled examples with every pod local and
// compares the nft text, and a summary of the chains, with golden files.
func TestGolden(t *testing.T) {
	for _, name := range []string{"shop", "multi-tenant"} {
		t.Run(name, func(t *testing.T) {
			e := eval.New(loadExample(t, name), eval.Options{})
			res, err := compile.Compile(e, podLike(e), compile.Options{})
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, name+".nft", []byte(nft.Render(res.Ruleset)))
			testutil.Golden(t, name+".chains.txt", []byte(summary(res)))
		})
	}
}

// summary lists each policy chain with its policies and pods, then the
// warnings and sizes.
func summary(res *compile.Result) string {
	var b strings.Builder
	for _, c := range res.Ruleset.Chains {
		info, ok := res.Chains[c.Name]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%s (%s)\n  policies: %s\n  pods: %s\n", c.Name, info.Direction, strings.Join(info.Policies, "; "), strings.Join(info.Pods, " "))
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	s := res.Stats
	fmt.Fprintf(&b, "local pods %d, chains %d, rules %d, sets %d (%d elements), maps %d (%d elements)\n",
		s.LocalPods, s.Chains, s.Rules, s.Sets, s.SetElements, s.Maps, s.MapElements)
	return b.String()
}

func pod(ns, name, app string, ip string, ports ...model.ContainerPort) *model.Endpoint {
	return &model.Endpoint{Kind: model.EndpointPod, Namespace: ns, Name: name, Labels: map[string]string{"app": app},
		IPs: []netip.Addr{netip.MustParseAddr(ip)}, Ports: ports, NodeName: "node0"}
}

// egressToWeb is a namespace "a" with a client allowed to reach web pods
// on their named port http only.
func egressToWeb(eps ...*model.Endpoint) *model.Snapshot {
	pol := &model.Policy{Kind: "NetworkPolicy", Namespace: "a", Name: "client-egress", Tier: model.TierNetworkPolicy, EgressIsolation: true,
		Subject: model.Subject{Namespace: "a", PodSelector: model.MustSelector("app=client")},
		Rules: []model.Rule{{Direction: model.Egress, Action: model.Allow,
			Peers: []model.Peer{{Kind: model.PeerPods, Namespace: "a", PodSelector: model.MustSelector("app=web")}},
			Ports: []model.PortSpec{{Protocol: model.TCP, Name: "http"}}}}}
	return &model.Snapshot{
		Namespaces: map[string]*model.Namespace{"a": {Name: "a", Labels: map[string]string{model.NamespaceNameLabel: "a"}, Declared: true}},
		Endpoints:  eps, Policies: []*model.Policy{pol},
	}
}

var http8080 = model.ContainerPort{Name: "http", Protocol: model.TCP, Port: 8080}

// TestPodAddChangesOnlyElements checks the property incremental updates
// rest on: a pod joining existing policies changes set and map elements,
// never chains or set declarations.
func TestPodAddChangesOnlyElements(t *testing.T) {
	client, web1 := pod("a", "client", "client", "10.0.0.1"), pod("a", "web1", "web", "10.0.0.2", http8080)
	web2 := pod("a", "web2", "web", "10.0.0.3", http8080)
	before, err := compile.Node(eval.New(egressToWeb(client, web1), eval.Options{}), []*model.Endpoint{client, web1}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	after, err := compile.Node(eval.New(egressToWeb(client, web1, web2), eval.Options{}), []*model.Endpoint{client, web1, web2}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := nft.RenderDelta(nft.Diff(before, after))
	want := "add element inet bulkhead named_9aba2147179b_v4 { 10.0.0.3 . tcp . 8080 }\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delta (-want +got):\n%s", diff)
	}
}

// TestPolicyEditReplacesChains checks that editing a policy keeps chain
// and set names (no full table replace) and replaces only the chains of
// the pods it selects.
func TestPolicyEditReplacesChains(t *testing.T) {
	client, web1 := pod("a", "client", "client", "10.0.0.1"), pod("a", "web1", "web", "10.0.0.2", http8080)
	snap := egressToWeb(client, web1)
	before, err := compile.Node(eval.New(snap, eval.Options{}), []*model.Endpoint{client, web1}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	edited := *snap.Policies[0]
	edited.Rules = append([]model.Rule(nil), edited.Rules...)
	edited.Rules[0].Ports = append(edited.Rules[0].Ports, model.PortSpec{Protocol: model.UDP, Ports: model.SinglePort(53)})
	snap.Policies = []*model.Policy{&edited}
	after, err := compile.Node(eval.New(snap, eval.Options{}), []*model.Endpoint{client, web1}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := nft.Diff(before, after)
	if d.Replace != nil || len(d.AddChains) > 0 || len(d.DelChains) > 0 || len(d.ReplaceChains) != 0 || len(d.AddElems) != 1 {
		t.Errorf("want only the named-port set's elements to change, got:\n%s", nft.RenderDelta(d))
	}
}

// TestCompileErrorsAndWarnings covers the cases the compiler reports.
func TestCompileErrorsAndWarnings(t *testing.T) {
	client, web1 := pod("a", "client", "client", "10.0.0.1"), pod("a", "web1", "web", "10.0.0.2", http8080)
	e := eval.New(egressToWeb(client, web1), eval.Options{})

	stranger := pod("a", "stranger", "client", "10.0.0.9")
	if _, err := compile.Compile(e, []*model.Endpoint{stranger}, compile.Options{}); err == nil || !strings.Contains(err.Error(), "a/stranger is not in the engine") {
		t.Errorf("unknown pod: got error %v, want one naming a/stranger", err)
	}

	// A client and a web pod claiming one address: the address gets both
	// pods' egress chains in turn, the client's (web on 8080 only) and the
	// web pods' (nothing).
	twin := pod("a", "twin", "client", "10.0.0.2")
	web2 := pod("a", "web2", "web", "10.0.0.3", http8080)
	snap := egressToWeb(client, web1, twin, web2)
	snap.Policies = append(snap.Policies, &model.Policy{Kind: "NetworkPolicy", Namespace: "a", Name: "web-no-egress",
		Tier: model.TierNetworkPolicy, EgressIsolation: true, Subject: model.Subject{Namespace: "a", PodSelector: model.MustSelector("app=web")}})
	e = eval.New(snap, eval.Options{})
	res, err := compile.Compile(e, []*model.Endpoint{client, web1, twin, web2}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "10.0.0.2 is the address of several local pods (a/twin, a/web1)") {
		t.Errorf("warnings = %q, want one about 10.0.0.2", res.Warnings)
	}
	if err := nft.Validate(res.Ruleset); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		src  string
		want nft.Verdict
	}{
		{"10.0.0.1", nft.VerdictAccept}, // the client's policy alone
		{"10.0.0.2", nft.VerdictDrop},   // the client's and the web pods' policies
	} {
		pk := nft.Packet{Hook: nft.HookForward, Src: netip.MustParseAddr(tt.src), Dst: netip.MustParseAddr("10.0.0.3"), Proto: nft.ProtoTCP, DPort: 8080, Ct: nft.CtNew}
		if v := nft.Trace(res.Ruleset, pk); v != tt.want {
			t.Errorf("%v: got %v, want %v", pk, v, tt.want)
		}
	}
}

// TestCompileDeterministic checks that the order of the local pods does
// not matter and that two compilations give one text.
func TestCompileDeterministic(t *testing.T) {
	e := eval.New(loadExample(t, "multi-tenant"), eval.Options{})
	pods := podLike(e)
	a, err := compile.Node(e, pods, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(pods)
	slices.Reverse(rev)
	b, err := compile.Node(e, rev, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(nft.Render(a), nft.Render(b)); diff != "" {
		t.Errorf("reversed pods (-want +got):\n%s", diff)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("reversed pods: same text, different values")
	}
}

// TestNeighbourDiscovery checks that untracked ICMPv6 (neighbour
// discovery, which conntrack leaves untracked) passes isolated pods, and
// that nothing else untracked does.
func TestNeighbourDiscovery(t *testing.T) {
	client := &model.Endpoint{Kind: model.EndpointPod, Namespace: "a", Name: "client", Labels: map[string]string{"app": "client"},
		IPs: []netip.Addr{netip.MustParseAddr("fd00::1")}}
	web := &model.Endpoint{Kind: model.EndpointPod, Namespace: "a", Name: "web", Labels: map[string]string{"app": "web"},
		IPs: []netip.Addr{netip.MustParseAddr("fd00::2")}, Ports: []model.ContainerPort{http8080}}
	rs, err := compile.Node(eval.New(egressToWeb(client, web), eval.Options{}), []*model.Endpoint{client, web}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    nft.Packet
		want nft.Verdict
	}{
		{"neighbour solicitation", nft.Packet{Src: client.IPs[0], Dst: netip.MustParseAddr("ff02::1:ff00:2"), Proto: 58, Ct: nft.CtUntracked}, nft.VerdictAccept},
		{"neighbour advertisement", nft.Packet{Src: client.IPs[0], Dst: web.IPs[0], Proto: 58, Ct: nft.CtUntracked}, nft.VerdictAccept},
		{"ping", nft.Packet{Src: client.IPs[0], Dst: web.IPs[0], Proto: 58, Ct: nft.CtNew}, nft.VerdictDrop},
		{"untracked TCP", nft.Packet{Src: client.IPs[0], Dst: web.IPs[0], Proto: nft.ProtoTCP, DPort: 22, Ct: nft.CtUntracked}, nft.VerdictDrop},
	}
	for _, tt := range tests {
		tt.p.Hook = nft.HookForward
		if got := nft.Trace(rs, tt.p); got != tt.want {
			t.Errorf("%s (%v): %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}
