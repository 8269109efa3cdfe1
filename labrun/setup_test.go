package labrun

import (
	"bytes"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/lab"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

// repoPath returns a path relative to the module root.
func repoPath(t testing.TB, rel string) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", rel)
}

func loadPaths(t testing.TB, paths ...string) *model.Snapshot {
	t.Helper()
	res, err := manifest.Load(paths, nil, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Snapshot.Problems {
		if p.Severity == model.SeverityError {
			t.Fatalf("%s: %v", paths, p.Error())
		}
	}
	return res.Snapshot
}

func loadText(t testing.TB, name, text string) *model.Snapshot {
	t.Helper()
	res := manifest.LoadBytes(name, []byte(text), manifest.Options{})
	for _, p := range res.Snapshot.Problems {
		if p.Severity == model.SeverityError {
			t.Fatalf("%s: %v", name, p.Error())
		}
	}
	return res.Snapshot
}

// TestBuildShop checks the layout of the bundled shop: every buildable
// pod spread over two nodes with an assigned address, node-exporter
// (hostNetwork) skipped, external hosts on both edges of the card
// processor's range, and the default ports.
func TestBuildShop(t *testing.T) {
	snap := loadPaths(t, repoPath(t, "examples/shop"))
	s, err := Build(snap, Options{Prefix: "shop-"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.WriteLayout(&b); err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "shop-layout.txt", b.Bytes())

	// The engine sees the lab's addresses.
	for _, h := range s.Topology.Hosts {
		ep := s.Endpoint(h.Name)
		if ep == nil {
			t.Fatalf("host %s stands for no endpoint", h.Name)
		}
		if !slices.Equal(ep.IPs, h.Addrs) {
			t.Errorf("%s: engine has IPs %v, the lab %v", h.Name, ep.IPs, h.Addrs)
		}
		if got := s.Engine.EndpointForIP(h.Addrs[0]); got != ep {
			t.Errorf("%s: the engine finds %v at %s", h.Name, got, h.Addrs[0])
		}
	}
	// Every external host lies in the range it stands for and in no pod
	// or lab subnet.
	for _, x := range s.Externals {
		h, _ := s.Topology.Host(x.Host)
		for _, a := range h.Addrs {
			if !x.Endpoint.External.Contains(a) {
				t.Errorf("external %s: %s is outside %s", x.Host, a, x.Endpoint.ID())
			}
			if got := s.Engine.EndpointForIP(a); got != x.Endpoint {
				t.Errorf("external %s: the engine puts %s in %v", x.Host, a, got.ID())
			}
		}
	}
	if got := len(s.Nodes()); got != 2 {
		t.Errorf("%d nodes, want 2", got)
	}
	var local int
	for _, n := range s.Nodes() {
		local += len(s.Local(n))
	}
	if local != len(s.Pods) || len(s.Pods) != len(s.Topology.Hosts) {
		t.Errorf("%d local endpoints over the nodes, %d pods, %d hosts: want all equal", local, len(s.Pods), len(s.Topology.Hosts))
	}
}

// TestBuildDeterministic: lab probe rebuilds the layout lab up made, in
// another process, from the same inputs.
func TestBuildDeterministic(t *testing.T) {
	for seed := range uint64(20) {
		text := randomCluster(seed)
		a, err := Build(loadText(t, "a.yaml", text), Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Build(loadText(t, "b.yaml", text), Options{})
		if err != nil {
			t.Fatal(err)
		}
		pa, err := a.input.Plan()
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		pb, _ := b.input.Plan()
		if diff := cmp.Diff(pa.String(), pb.String()); diff != "" {
			t.Fatalf("seed %d: two builds differ (-a +b):\n%s", seed, diff)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	const pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: ns}\nspec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}\nstatus: {podIP: %s}\n---\n"
	tests := []struct {
		name, yaml string
		opts       Options
		want       string
	}{
		{"shared address", fmt.Sprintf(pod, "a", "10.0.0.1") + fmt.Sprintf(pod, "b", "10.0.0.1"), Options{}, `also the address of "ns/a"`},
		{"lab's own range", fmt.Sprintf(pod, "a", "169.254.1.9"), Options{}, "169.254"},
		{"no ports", "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: ns}\nspec: {containers: [{name: c, image: x}]}\n", Options{Ports: []Port{}}, "no ports to probe"},
		{"port zero", fmt.Sprintf(pod, "a", "10.0.0.1"), Options{Ports: []Port{{model.TCP, 0}}}, "port 0/TCP"},
		{"bad prefix", fmt.Sprintf(pod, "a", "10.0.0.1"), Options{Prefix: "a b"}, "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := manifest.LoadBytes("in.yaml", []byte(tt.yaml), manifest.Options{})
			_, err := Build(res.Snapshot, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRepresentatives(t *testing.T) {
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	avoid := model.IPsOf(nil, never...)
	tests := []struct {
		name   string
		region model.IPSet
		n      int
		want   [][]netip.Addr
	}{
		{"both edges of a documentation range", model.IPBlock(p("203.0.113.0/25")), 2,
			[][]netip.Addr{{a("203.0.113.0")}, {a("203.0.113.127")}}},
		{"the world minus a range starts after it", model.IPBlock(p("0.0.0.0/0"), p("203.0.113.0/25")), 2,
			[][]netip.Addr{{a("203.0.113.128")}, {a("203.0.113.255")}}},
		{"one per range", model.IPBlock(p("10.1.0.0/16")), 1,
			[][]netip.Addr{{a("10.1.0.0")}}},
		{"a single address", model.IPBlock(p("198.51.100.7/32")), 2,
			[][]netip.Addr{{a("198.51.100.7")}}},
		{"dual stack", model.IPBlock(p("0.0.0.0/0")).Union(model.IPBlock(p("::/0"))), 2,
			[][]netip.Addr{{a("203.0.113.0"), a("2001:db8::")}, {a("203.0.113.255"), a("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")}}},
		{"never TEST-NET-1 or link-local", model.IPBlock(p("192.0.2.0/24")).Union(model.IPBlock(p("169.254.0.0/16"))), 2, nil},
		{"public space when nothing else", model.IPBlock(p("8.8.8.0/30")), 2,
			[][]netip.Addr{{a("8.8.8.0")}, {a("8.8.8.3")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := representatives(tt.region, avoid, tt.n)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultPorts(t *testing.T) {
	snap := loadText(t, "in.yaml", `apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns, labels: {app: a}}
spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}, {containerPort: 53, protocol: UDP}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: http}, {port: 9000, endPort: 9010}, {protocol: SCTP, port: 9}, {protocol: UDP}]
`)
	var got []string
	for _, p := range DefaultPorts(snap) {
		got = append(got, p.String())
	}
	want := []string{
		"7/SCTP", "8/SCTP", "9/SCTP", "10/SCTP", // SCTP 9 is named, so the unnamed one is 7
		"9/TCP", "8080/TCP", "8999/TCP", "9000/TCP", "9010/TCP", "9011/TCP",
		"9/UDP", "53/UDP",
	}
	slices.SortFunc(want, func(a, b string) int { return comparePorts(mustPort(t, a), mustPort(t, b)) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func mustPort(t *testing.T, s string) Port {
	t.Helper()
	num, proto, _ := strings.Cut(s, "/")
	pr, err := model.ParseProtocol(proto)
	if err != nil {
		t.Fatal(err)
	}
	r, err := model.ParsePortRange(num)
	if err != nil {
		t.Fatal(err)
	}
	return Port{pr, r.First}
}

// oracle returns, for every probe of s, the result the engine predicts:
// what a lab that enforces exactly the engine's decisions would show.
// Cells the engine cannot decide connect.
func oracle(s *Setup) []lab.Result {
	var out []lab.Result
	for _, spec := range s.Probes() {
		dstHost, _ := s.HostOf(spec.Dst)
		src, dst := s.Endpoint(spec.Src), s.Endpoint(dstHost)
		allowed, unknown := s.Engine.Allowed(src, dst)
		o := lab.TimedOut
		if src == dst || allowed.Contains(spec.Protocol, spec.Port) || unknown.Contains(spec.Protocol, spec.Port) {
			o = lab.Connected
		}
		out = append(out, lab.Result{ProbeSpec: spec, Outcome: o, Tries: 1})
	}
	return out
}

// TestCompare feeds Compare the engine's own predictions (no mismatch,
// and a truth table equal to bulkhead matrix's), then flips some.
func TestCompare(t *testing.T) {
	snap := loadPaths(t, repoPath(t, "examples/multi-tenant"))
	s, err := Build(snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	results := oracle(s)
	r := s.Compare(results)
	if !r.OK() {
		var b bytes.Buffer
		r.WriteText(&b, s)
		t.Fatalf("the engine's own predictions mismatch:\n%s", b.String())
	}
	if r.Compared == 0 || r.Probes != len(results) {
		t.Fatalf("compared %d cells over %d probes (%d results)", r.Compared, r.Probes, len(results))
	}
	// The wire table equals the engine's matrix, where the engine knows.
	for pi, port := range s.Ports {
		for i, src := range s.Pods {
			for j, dst := range s.Pods {
				allowed, unknown := s.Engine.Allowed(src, dst)
				if unknown.Contains(port.Protocol, port.Port) {
					continue
				}
				want := allowed.Contains(port.Protocol, port.Port)
				if got := r.Matrix.Cells[pi][i][j] == 1; got != want {
					t.Errorf("%v %s -> %s: table says %v, engine %v", port, src.ID(), dst.ID(), got, want)
				}
			}
		}
	}

	// Flip one allowed and one denied pod-to-pod probe, break a self
	// probe and fail one probe outright.
	var flipped []string
	flip := func(want bool) {
		for i, res := range results {
			dstHost, _ := s.HostOf(res.Dst)
			if res.Src == dstHost || s.Endpoint(res.Src).Kind == model.EndpointExternal {
				continue
			}
			if res.Allowed() == want {
				results[i].Outcome = map[bool]lab.Outcome{true: lab.Refused, false: lab.Connected}[want]
				flipped = append(flipped, res.ProbeSpec.String())
				return
			}
		}
		t.Fatalf("no probe with outcome %v", want)
	}
	flip(true)
	flip(false)
	selfAt := slices.IndexFunc(results, func(r lab.Result) bool { h, _ := s.HostOf(r.Dst); return r.Src == h })
	results[selfAt].Outcome = lab.TimedOut
	results[len(results)-1].Err = errorString("probe failed")
	results[len(results)-1].Outcome = lab.OutcomeUnknown

	// Doubtful: the allowed probe made to fail and the self probe, not
	// the denied one made to connect nor the one that failed outright.
	var doubtful []string
	for _, i := range s.Doubtful(results) {
		doubtful = append(doubtful, results[i].ProbeSpec.String())
	}
	if want := []string{flipped[0], results[selfAt].ProbeSpec.String()}; !cmp.Equal(want, doubtful, cmpopts.SortSlices(func(a, b string) bool { return a < b })) {
		t.Errorf("Doubtful = %v, want %v", doubtful, want)
	}

	r = s.Compare(results)
	var got []string
	for _, m := range r.Mismatches {
		got = append(got, lab.ProbeSpec{Src: m.SrcHost, Dst: m.DstAddr, Protocol: m.Port.Protocol, Port: m.Port.Port}.String())
		if m.Decision == nil || m.Engine == (m.Wire == lab.Connected) {
			t.Errorf("mismatch %v: decision %v, engine %v, wire %v", m, m.Decision, m.Engine, m.Wire)
		}
	}
	slices.Sort(flipped)
	slices.Sort(got)
	if diff := cmp.Diff(flipped, got); diff != "" {
		t.Errorf("mismatches (-want +got):\n%s", diff)
	}
	if len(r.SelfFailures) != 1 || len(r.Errors) != 1 || r.OK() {
		t.Errorf("self failures %v, errors %v, OK %v; want one each, not OK", r.SelfFailures, r.Errors, r.OK())
	}
	var b bytes.Buffer
	if err := r.WriteText(&b, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MISMATCH ", "engine says allowed, wire says refused", "engine says denied, wire says connected", "SELF-CHECK FAILED", "PROBE ERROR", "  egress of ", "  ingress of "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestProbes: every host probes every host on every port over each
// family both have; external hosts never probe each other; pairs with no
// family in common are counted as unprobed.
func TestProbes(t *testing.T) {
	snap := loadText(t, "in.yaml", `apiVersion: v1
kind: Pod
metadata: {name: v4, namespace: ns}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: dual, namespace: ns}
spec: {containers: [{name: c, image: x}]}
status: {podIPs: [{ip: 10.0.0.2}, {ip: "fd00:1::2"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: v6, namespace: ns}
spec: {containers: [{name: c, image: x}]}
status: {podIP: "fd00:1::3"}
`)
	s, err := Build(snap, Options{Ports: []Port{{model.TCP, 80}, {model.UDP, 53}}, OneExternalPerRange: true})
	if err != nil {
		t.Fatal(err)
	}
	// One external range, 0.0.0.0/0 and ::/0 minus the pods: one host
	// with both families.
	if len(s.Externals) != 1 {
		t.Fatalf("externals %v, want one", s.Externals)
	}
	count := map[string]int{}
	for _, p := range s.Probes() {
		dst, _ := s.HostOf(p.Dst)
		count[string(p.Src)+" -> "+string(dst)]++
	}
	x := string(s.Externals[0].Host)
	want := map[string]int{
		"ns/v4 -> ns/v4": 2, "ns/v4 -> ns/dual": 2, "ns/v4 -> " + x: 2,
		"ns/dual -> ns/v4": 2, "ns/dual -> ns/dual": 4, "ns/dual -> ns/v6": 2, "ns/dual -> " + x: 4,
		"ns/v6 -> ns/dual": 2, "ns/v6 -> ns/v6": 2, "ns/v6 -> " + x: 2,
		x + " -> ns/v4": 2, x + " -> ns/dual": 4, x + " -> ns/v6": 2,
	}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("probes per pair (-want +got):\n%s", diff)
	}
	r := s.Compare(oracle(s))
	if r.Unprobed != 4 { // v4 <-> v6, both ways, two ports
		t.Errorf("unprobed %d, want 4", r.Unprobed)
	}
}
