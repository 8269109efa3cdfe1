//go:build linux

package lab

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
)

// benchTopology spreads pods over nodes, each pod listening on one port
// of each protocol.
func benchTopology(pods, nodes int) Topology {
	var t Topology
	for i := range pods {
		t.Hosts = append(t.Hosts, Host{Name: HostName(fmt.Sprintf("pod-%d", i)), Node: fmt.Sprintf("node-%d", i%nodes), Ports: allProtocols})
	}
	return t
}

// BenchmarkPrivilegedProbe measures one allowed probe, run alone, between
// pods of one node (bridged) and of two nodes (routed twice).
func BenchmarkPrivilegedProbe(b *testing.B) {
	l := upLab(b, benchTopology(3, 2)) // pod-0 and pod-2 on node-0, pod-1 on node-1
	topo := l.Topology()
	for _, p := range allProtocols {
		for _, path := range []struct {
			name string
			dst  HostName
		}{{"same-node", "pod-2"}, {"cross-node", "pod-1"}} {
			b.Run(fmt.Sprintf("%v/%s", p.Protocol, path.name), func(b *testing.B) {
				b.ReportAllocs()
				spec := ProbeSpec{Src: "pod-0", Dst: must(topo.Host(path.dst)).Addrs[0], Protocol: p.Protocol, Port: p.Port}
				for b.Loop() {
					if r := l.probe(context.Background(), spec); !r.Allowed() {
						b.Fatalf("%v", r)
					}
				}
			})
		}
	}
}

// BenchmarkPrivilegedProbeAll measures 1,000 probes run by ProbeAll with
// the default concurrency and timeout, all allowed, and all denied (each
// dropped by the node, so each costs DefaultProbeTimeout).
func BenchmarkPrivilegedProbeAll(b *testing.B) {
	l := upLab(b, benchTopology(20, 2))
	topo := l.Topology()
	var specs []ProbeSpec
	for _, s := range topo.AllProbes() {
		if must(topo.HostByAddr(s.Dst)).Name != s.Src { // traffic to itself never meets a rule
			specs = append(specs, s)
		}
	}
	specs = specs[:1000]
	run := func(b *testing.B, wantAllowed bool, concurrency int) {
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range l.ProbeAll(context.Background(), specs, concurrency) {
				if r.Allowed() != wantAllowed || r.Err != nil {
					b.Fatalf("%v (%v)", r, r.Elapsed)
				}
			}
		}
		b.ReportMetric(float64(len(specs))*float64(b.N)/b.Elapsed().Seconds(), "probes/s")
	}
	for _, c := range []int{256, DefaultConcurrency} {
		b.Run(fmt.Sprintf("probes=1000/allowed/concurrency=%d", c), func(b *testing.B) { run(b, true, c) })
	}
	drop := `table inet bulkhead {
  chain filter_forward {
    type filter hook forward priority filter; policy drop;
  }
}`
	nftApply(b, l, "node-0", drop)
	nftApply(b, l, "node-1", drop)
	for _, c := range []int{256, DefaultConcurrency} {
		b.Run(fmt.Sprintf("probes=1000/denied/concurrency=%d", c), func(b *testing.B) { run(b, false, c) })
	}
}

// BenchmarkPrivilegedUpDown measures building and deleting a lab of 50
// pods on two nodes, each pod listening on TCP, UDP and SCTP.
func BenchmarkPrivilegedUpDown(b *testing.B) {
	netnstest.RequireRoot(b)
	for _, pods := range []int{10, 50} {
		b.Run(fmt.Sprintf("pods=%d", pods), func(b *testing.B) {
			topo := benchTopology(pods, 2)
			topo.Prefix = testPrefix()
			defer Cleanup(topo.Prefix)
			var up, down time.Duration
			for b.Loop() {
				start := time.Now()
				l, err := Up(context.Background(), topo, nil)
				if err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if err := l.Down(context.Background()); err != nil {
					b.Fatal(err)
				}
				up += mid.Sub(start)
				down += time.Since(mid)
			}
			b.ReportMetric(float64(up.Milliseconds())/float64(b.N), "ms-up/op")
			b.ReportMetric(float64(down.Milliseconds())/float64(b.N), "ms-down/op")
		})
	}
}
