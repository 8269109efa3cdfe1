//go:build linux

package labrun

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/dataplane"
	"github.com/bulkhead/bulkhead/lab"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
)

// perfPolicies let shop-backend/catalog (node-2) reach shop-data/postgres
// (node-1) on 5201, iperf3's port, over TCP and UDP: the shop's
// default-deny namespaces otherwise forbid it, and the lab's own
// listeners hold the ports the shop already allows.
const perfPolicies = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: perf-egress, namespace: shop-backend}
spec:
  podSelector: {matchLabels: {app: catalog}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop-data}}, podSelector: {matchLabels: {app: postgres}}}]
    ports: [{protocol: TCP, port: 5201}, {protocol: UDP, port: 5201}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: perf-ingress, namespace: shop-data}
spec:
  podSelector: {matchLabels: {app: postgres}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop-backend}}, podSelector: {matchLabels: {app: catalog}}}]
    ports: [{protocol: TCP, port: 5201}, {protocol: UDP, port: 5201}]
`

// BenchmarkPrivilegedThroughput measures what the agent's ruleset costs
// traffic between two lab pods on different nodes (routed through both
// node namespaces, so both rulesets see every packet): iperf3 TCP, and
// iperf3 UDP with 64-byte datagrams at a 400 Mbit/s offered rate (far
// more than one core forwards), in four modes measured in every
// iteration:
//
//   - norules: no table at all (and so no conntrack);
//   - ctonly: a table holding only the ruleset's first rule, ct state
//     established,related accept (what conntrack alone costs);
//   - rules: the shop's compiled rules on both nodes, as the agent
//     applies them;
//   - walk: the same rules, but established packets of the measured
//     flow's data direction are accepted only at the end of the base
//     chain, after the dispatch and both policy chains (its replies are
//     accepted first): every data packet pays what the first packet of a
//     connection pays, the most that reordering or trimming the rules
//     before the verdict maps could save per new connection;
//   - lean: walk without the rules the base chain has before its verdict
//     maps (untracked ICMPv6, a pod to itself): what those rules cost a
//     walking packet.
//
// Run it as
//
//	go test ./labrun -run '^$' -bench PrivilegedThroughput -benchtime 8x -v
//
// The rates are medians over the iterations; overhead-% is 100 × (1 −
// the median of the per-iteration ratios of a mode's rate to the no-table
// rate). The UDP
// rate counts datagrams that arrived: with veth links the whole path,
// both nodes' forwarding included, runs on the sender's CPU, so the rate
// measures the per-packet cost of the path.
func BenchmarkPrivilegedThroughput(b *testing.B) {
	requireRoot(b)
	iperf, err := exec.LookPath("iperf3")
	if err != nil {
		b.Skip("SKIPPED: iperf3 is not installed: apt-get install -y iperf3 (hack/test.sh installs it)")
	}
	const seconds = "3"
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "perf.yaml"), []byte(perfPolicies), 0o644); err != nil {
		b.Fatal(err)
	}
	snap := loadPaths(b, repoPath(b, "examples/shop"), dir)
	prefix := testPrefix()
	s, err := Build(snap, Options{Prefix: prefix, Ports: []Port{{model.TCP, 9}}})
	if err != nil {
		b.Fatal(err)
	}
	const client, server = lab.HostName("shop-backend/catalog[Deployment]"), lab.HostName("shop-data/postgres[StatefulSet]")
	ch, _ := s.Topology.Host(client)
	sh, _ := s.Topology.Host(server)
	if ch.Node == sh.Node {
		b.Fatalf("client and server both on %s", ch.Node)
	}
	allowed, _ := s.Engine.Allowed(s.Endpoint(client), s.Endpoint(server))
	if !allowed.Contains(model.TCP, 5201) || !allowed.Contains(model.UDP, 5201) {
		b.Fatalf("the engine does not allow %s -> %s on 5201: %v", client, server, allowed)
	}

	ctx := context.Background()
	l, err := Up(ctx, s, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := l.Down(ctx); err != nil {
			b.Error(err)
		}
	}()

	// One applier per node, to put a ruleset in and take the table out,
	// in each mode (see above).
	const (
		none = iota
		ctOnly
		full
		walk
		lean
		modes
	)
	modeNames := [modes]string{"norules", "ctonly", "rules", "walk", "lean"}
	type node struct {
		ap *dataplane.Netlink
		rs [modes]*nft.Ruleset
	}
	var nodes []node
	for _, n := range s.Nodes() {
		rs, err := Agent(s.Engine, s.Local(n))
		if err != nil {
			b.Fatal(err)
		}
		fwd := rs.Chains[slices.IndexFunc(rs.Chains, func(c nft.Chain) bool { return c.Hook == nft.HookForward })]
		established := fwd.Rules[0]
		if !slices.Equal(established.Stmts, []nft.Stmt{nft.CtStateIn{States: nft.CtEstablished | nft.CtRelated}, nft.VerdictAccept}) {
			b.Fatalf("the ruleset's first rule is %s, not ct state established,related accept", nft.FormatRule(established))
		}
		ct := &nft.Ruleset{Chains: []nft.Chain{{Name: fwd.Name, Hook: fwd.Hook, Priority: fwd.Priority, Policy: fwd.Policy, Rules: fwd.Rules[:1]}}}
		walked := rs.Clone()
		wf := walked.Chain(fwd.Name)
		wf.Rules = append([]nft.Rule{
			{Stmts: []nft.Stmt{nft.CtStateIn{States: nft.CtRelated}, nft.VerdictAccept}},
			{Stmts: []nft.Stmt{nft.AddrIs{Key: nft.KeySrc4, Addr: sh.Addr(false)}, nft.AddrIs{Key: nft.KeyDst4, Addr: ch.Addr(false)}, nft.VerdictAccept}, Comment: "replies of the measured flow"},
		}, wf.Rules[1:]...)
		wf.Rules = append(wf.Rules, nft.Rule{Stmts: []nft.Stmt{nft.CtStateIn{States: nft.CtEstablished}, nft.VerdictAccept}, Comment: "established, after the walk"})
		leaner := walked.Clone()
		lf := leaner.Chain(fwd.Name)
		lf.Rules = slices.DeleteFunc(lf.Rules, func(r nft.Rule) bool {
			return slices.ContainsFunc(r.Stmts, func(st nft.Stmt) bool {
				in, ok := st.(nft.InSet)
				return st == nft.Stmt(nft.CtStateIn{States: nft.CtUntracked}) || ok && (in.Set == compile.SelfV4 || in.Set == compile.SelfV6)
			})
		})
		if len(lf.Rules) != len(wf.Rules)-3 {
			b.Fatalf("lean mode: removed %d rules before the verdict maps, want 3", len(wf.Rules)-len(lf.Rules))
		}
		ns, err := l.NodeNetns(n)
		if err != nil {
			b.Fatal(err)
		}
		ap, err := dataplane.New(dataplane.Config{NetNS: int(ns)})
		if err != nil {
			b.Fatal(err)
		}
		defer ap.Close()
		nodes = append(nodes, node{ap, [modes]*nft.Ruleset{nil, ct, rs, walked, leaner}})
	}
	setMode := func(m int) {
		for _, n := range nodes {
			var err error
			if m == none {
				err = n.ap.Delete(ctx)
			} else {
				err = n.ap.Apply(ctx, n.rs[m])
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}

	serverAddr := sh.Addr(false)
	srvNS, err := l.HostNetns(server)
	if err != nil {
		b.Fatal(err)
	}
	cliNS, err := l.HostNetns(client)
	if err != nil {
		b.Fatal(err)
	}
	// Both ends run at nice -20, so that other work on a shared machine
	// disturbs the measurement less.
	srv := exec.Command("nice", "-n", "-20", iperf, "-s", "-B", serverAddr.String(), "-p", "5201")
	if err := lab.RunIn(srvNS, srv.Start); err != nil {
		b.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	time.Sleep(300 * time.Millisecond)

	run := func(args ...string) iperfResult {
		b.Helper()
		args = append([]string{"-c", serverAddr.String(), "-p", "5201", "-t", seconds, "-J"}, args...)
		var out []byte
		err := lab.RunIn(cliNS, func() error {
			var err error
			out, err = exec.Command("nice", append([]string{"-n", "-20", iperf}, args...)...).Output()
			return err
		})
		if err != nil {
			b.Fatalf("iperf3 %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return parseIperf(b, out)
	}
	// Probe first, so that a ruleset that drops the flow fails loudly
	// instead of measuring nothing.
	for _, m := range []int{full, walk, lean} {
		setMode(m)
		if ok, err := l.Probe(ctx, client, serverAddr, model.TCP, 9); err != nil || ok {
			b.Fatalf("with %s, %s -> %s 9/TCP: connected %v, err %v; want denied", modeNames[m], client, server, ok, err)
		}
	}

	// Each iteration measures every mode, in an order that rotates and
	// reverses across iterations so that drift in the machine's load
	// cancels out; the rates are medians, and the overheads medians of
	// the per-iteration ratios to the no-table rate.
	var tcp, udp, loss, tcpRatio, udpRatio [modes][]float64
	orders := [][]int{{none, ctOnly, full, walk, lean}, {lean, walk, full, ctOnly, none}, {ctOnly, walk, none, lean, full}, {full, lean, none, walk, ctOnly}}
	iter := 0
	for b.Loop() {
		for _, m := range orders[iter%len(orders)] {
			setMode(m)
			tcp[m] = append(tcp[m], run().bitsPerSecond)
			u := run("-u", "-l", "64", "-b", "400M")
			udp[m] = append(udp[m], u.bitsPerSecond)
			loss[m] = append(loss[m], u.lostPercent)
		}
		for m := range modes {
			tcpRatio[m] = append(tcpRatio[m], tcp[m][iter]/tcp[none][iter])
			udpRatio[m] = append(udpRatio[m], udp[m][iter]/udp[none][iter])
		}
		b.Logf("iteration %d: TCP %.2f / %.2f / %.2f / %.2f / %.2f Gbit/s, UDP-64 %.1f / %.1f / %.1f / %.1f / %.1f kpps (no table / conntrack only / rules / walk / lean)", iter,
			tcp[none][iter]/1e9, tcp[ctOnly][iter]/1e9, tcp[full][iter]/1e9, tcp[walk][iter]/1e9, tcp[lean][iter]/1e9,
			udp[none][iter]/512/1e3, udp[ctOnly][iter]/512/1e3, udp[full][iter]/512/1e3, udp[walk][iter]/512/1e3, udp[lean][iter]/512/1e3)
		iter++
	}
	b.StopTimer()
	for m := range modes {
		b.ReportMetric(median(tcp[m])/1e9, "tcp-Gbit/s-"+modeNames[m])
		b.ReportMetric(median(udp[m])/512/1e3, "udp64-kpps-"+modeNames[m])
		b.ReportMetric(median(loss[m]), "udp64-loss-%-"+modeNames[m])
		if m != none {
			b.ReportMetric(100*(1-median(tcpRatio[m])), "tcp-overhead-%-"+modeNames[m])
			b.ReportMetric(100*(1-median(udpRatio[m])), "udp64-overhead-%-"+modeNames[m])
		}
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type iperfResult struct {
	bitsPerSecond float64 // received
	lostPercent   float64
}

// parseIperf reads iperf3 -J output: the receiver's rate for TCP, and
// for UDP the rate of datagrams that arrived and the loss.
func parseIperf(tb testing.TB, out []byte) iperfResult {
	tb.Helper()
	var r struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
			Sum struct {
				BitsPerSecond float64 `json:"bits_per_second"`
				LostPercent   float64 `json:"lost_percent"`
			} `json:"sum"`
		} `json:"end"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		tb.Fatalf("iperf3 -J: %v\n%s", err, out)
	}
	if r.Error != "" {
		tb.Fatalf("iperf3: %s", r.Error)
	}
	if r.End.SumReceived.BitsPerSecond > 0 {
		return iperfResult{bitsPerSecond: r.End.SumReceived.BitsPerSecond}
	}
	// UDP: "sum" is the receiver's view, lost datagrams excluded from the
	// rate only through lost_percent.
	s := r.End.Sum
	return iperfResult{bitsPerSecond: s.BitsPerSecond * (1 - s.LostPercent/100), lostPercent: s.LostPercent}
}
