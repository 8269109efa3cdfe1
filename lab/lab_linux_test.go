//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
	"github.com/bulkhead/bulkhead/model"
)

var prefixSeq atomic.Int32

// testPrefix returns a prefix no other test, test process or user lab
// shares: "bht<pid>-<n>-".
func testPrefix() string {
	return fmt.Sprintf("bht%d-%d-", os.Getpid(), prefixSeq.Add(1))
}

// upLab brings topo up under a fresh prefix and registers its teardown,
// which also checks that nothing with the prefix is left behind.
func upLab(tb testing.TB, topo Topology) *Lab {
	tb.Helper()
	netnstest.RequireRoot(tb)
	topo.Prefix = testPrefix()
	l, err := Up(context.Background(), topo, nil)
	if err != nil {
		tb.Fatalf("Up: %v", err)
	}
	tb.Cleanup(func() {
		if err := l.Down(context.Background()); err != nil {
			tb.Errorf("Down: %v", err)
		}
		if left, err := List(topo.Prefix); err != nil || len(left) > 0 {
			tb.Errorf("after Down, namespaces %v are left (err %v)", left, err)
			Cleanup(topo.Prefix)
		}
	})
	return l
}

var allProtocols = []model.ContainerPort{
	{Protocol: model.TCP, Port: 80},
	{Protocol: model.UDP, Port: 53},
	{Protocol: model.SCTP, Port: 9},
}

// twoNodes is the layout the forward-hook tests use: two pods on node a
// (one with a manifest address in a subnet of its own), one on node b,
// and an external host.
func twoNodes() Topology {
	return Topology{
		DualStack: true,
		Hosts: []Host{
			{Name: "a1", Node: "a", Ports: allProtocols},
			{Name: "a2", Node: "a", Addrs: []netip.Addr{addr("192.168.77.7"), addr("fd77::7")}, Ports: append(slices.Clone(allProtocols), model.ContainerPort{Protocol: model.SCTP, Port: 3868})},
			{Name: "b1", Node: "b", Ports: allProtocols},
		},
		External: []Host{{Name: "x", Ports: allProtocols}},
	}
}

// probeAll runs every probe of the lab's matrix and returns the ones
// that did not connect, failing on probes that could not be made. It
// logs the outcome and time of each of those.
func probeAll(t *testing.T, l *Lab) (denied []string, total int) {
	t.Helper()
	topo := l.Topology()
	specs := topo.AllProbes()
	start := time.Now()
	for _, r := range l.ProbeAll(context.Background(), specs, 0) {
		if r.Err != nil {
			t.Errorf("probe error: %v", r.Err)
			continue
		}
		if !r.Allowed() {
			t.Logf("not connected: %v after %v", r, r.Elapsed.Round(time.Millisecond))
			denied = append(denied, r.ProbeSpec.String())
		}
	}
	t.Logf("%d probes in %v", len(specs), time.Since(start).Round(time.Millisecond))
	slices.Sort(denied)
	return denied, len(specs)
}

func TestPrivilegedOneNode(t *testing.T) {
	l := upLab(t, Topology{
		DualStack: true,
		Hosts: []Host{
			{Name: "web", Node: "n", Ports: allProtocols},
			{Name: "db", Node: "n", Ports: []model.ContainerPort{{Protocol: model.TCP, Port: 5432}, {Protocol: model.SCTP, Port: 3868}}},
			{Name: "dns", Node: "n", Ports: []model.ContainerPort{{Protocol: model.UDP, Port: 53}, {Protocol: model.UDP, Port: 5353}}},
		},
	})
	denied, total := probeAll(t, l)
	if len(denied) > 0 {
		t.Errorf("with no rules, %d of %d probes did not connect:\n%s", len(denied), total, strings.Join(denied, "\n"))
	}
	checkClosedPorts(t, l, "web", "db")
}

// checkClosedPorts is the negative control: a port nobody listens on must
// be refused, in every protocol and family, so an "allowed" above cannot
// come from a prober that always succeeds.
func checkClosedPorts(t *testing.T, l *Lab, src, dst HostName) {
	t.Helper()
	topo := l.Topology()
	for _, a := range must(topo.Host(dst)).Addrs {
		for _, p := range model.Protocols {
			r := l.ProbeAll(context.Background(), []ProbeSpec{{Src: src, Dst: a, Protocol: p, Port: 7}}, 1)[0]
			if r.Err != nil || r.Outcome != Refused {
				t.Errorf("%v to a closed port: %v, %v; want refused", r.ProbeSpec, r.Outcome, r.Err)
			}
		}
	}
}

func TestPrivilegedTwoNodes(t *testing.T) {
	l := upLab(t, twoNodes())
	denied, total := probeAll(t, l)
	if len(denied) > 0 {
		t.Errorf("with no rules, %d of %d probes did not connect:\n%s", len(denied), total, strings.Join(denied, "\n"))
	}
	checkClosedPorts(t, l, "a1", "b1")
	checkClosedPorts(t, l, "b1", "x")
	checkClosedPorts(t, l, "x", "a2")
}

// nftApply loads ruleset into node's namespace with `nft -f -`, run
// through RunIn: the way a test (never the lab) reaches nft.
func nftApply(t testing.TB, l *Lab, node, ruleset string) {
	t.Helper()
	out := nftRun(t, l, node, ruleset, "-f", "-")
	if out != "" {
		t.Logf("nft: %s", out)
	}
}

func nftRun(t testing.TB, l *Lab, node, stdin string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		t.Fatalf("nft not found (%v): install it with `apt-get install -y nftables`", err)
	}
	ns, err := l.NodeNetns(node)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	err = RunIn(ns, func() error {
		// The child inherits the namespace of the thread that forks it,
		// which RunIn has locked and switched.
		cmd := exec.Command("nft", args...)
		cmd.Stdin = strings.NewReader(stdin)
		var err error
		out, err = cmd.CombinedOutput()
		return err
	})
	if err != nil {
		t.Fatalf("nft %v in node %s: %v\n%s", args, node, err, out)
	}
	return string(out)
}

// counter returns the packets counted by the rule of node's ruleset
// whose comment is name.
func counter(t *testing.T, l *Lab, node, name string) int {
	t.Helper()
	out := nftRun(t, l, node, "", "list", "table", "inet", "bulkhead")
	m := regexp.MustCompile(`counter packets (\d+) bytes \d+.*comment "` + regexp.QuoteMeta(name) + `"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no counter %q in node %s:\n%s", name, node, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestPrivilegedForwardHook applies hand-written rules in the inet forward
// hook of the node namespaces and checks that exactly the flows they drop
// are denied: bridged flows between pods of one node (IPv4 and IPv6),
// routed flows dropped on the source node or on the destination node,
// and flows to and from the external host. Everything else, replies
// included, still connects.
func TestPrivilegedForwardHook(t *testing.T) {
	l := upLab(t, twoNodes())
	topo := l.Topology()
	ip := func(h HostName, v6 bool) netip.Addr { return must(topo.Host(h)).Addr(v6) }
	const head = `table inet bulkhead {
  chain filter_forward {
    type filter hook forward priority filter; policy accept;
    ct state invalid counter drop comment "invalid"
    ct state established,related accept
`
	nftApply(t, l, "a", head+fmt.Sprintf(`
    ip saddr %s ip daddr %s tcp dport 80 drop
    ip6 saddr %s ip6 daddr %s udp dport 53 drop
    ip saddr %s ip daddr %s meta l4proto sctp drop
    ip saddr %s ip daddr %s udp dport 53 drop
  }
}`, ip("a1", false), ip("a2", false), ip("a1", true), ip("a2", true), ip("a1", false), ip("b1", false), ip("a2", false), ip("x", false)))
	nftApply(t, l, "b", head+fmt.Sprintf(`
    ip saddr %s ip daddr %s tcp dport 80 drop
    ip saddr %s ip daddr %s sctp dport 9 drop
    ip6 saddr %s ip6 daddr %s sctp dport 9 drop
  }
}`, ip("a2", false), ip("b1", false), ip("x", false), ip("b1", false), ip("x", true), ip("b1", true)))

	want := []string{
		fmt.Sprintf("a1 -> %s:80 TCP", ip("a2", false)),  // bridged, node a
		fmt.Sprintf("a1 -> [%s]:53 UDP", ip("a2", true)), // bridged IPv6, node a
		fmt.Sprintf("a1 -> %s:9 SCTP", ip("b1", false)),  // routed, dropped on the source node
		fmt.Sprintf("a2 -> %s:53 UDP", ip("x", false)),   // egress to the external host
		fmt.Sprintf("a2 -> %s:80 TCP", ip("b1", false)),  // routed, dropped on the destination node
		fmt.Sprintf("x -> %s:9 SCTP", ip("b1", false)),   // ingress from the external host
		fmt.Sprintf("x -> [%s]:9 SCTP", ip("b1", true)),  // the same over IPv6
	}
	slices.Sort(want)
	denied, _ := probeAll(t, l)
	if diff := cmp.Diff(want, denied); diff != "" {
		t.Errorf("denied flows mismatch (-want +got):\n%s", diff)
	}
	// Conntrack checks SCTP checksums and verification tags: every INIT
	// and INIT ACK above passed as valid.
	for _, node := range []string{"a", "b"} {
		if n := counter(t, l, node, "invalid"); n != 0 {
			t.Errorf("node %s: %d packets were invalid to conntrack, want 0", node, n)
		}
	}
	// The control for the bridged rows: without bridge netfilter, traffic
	// between pods of one node never reaches the forward hook.
	ns, err := l.NodeNetns("a")
	if err != nil {
		t.Fatal(err)
	}
	setBridgeNF := func(v string) {
		t.Helper()
		if err := RunIn(ns, func() error { return writeSysctl("net.bridge.bridge-nf-call-iptables", v) }); err != nil {
			t.Fatal(err)
		}
	}
	setBridgeNF("0")
	ok, err := l.Probe(context.Background(), "a1", ip("a2", false), model.TCP, 80)
	setBridgeNF("1")
	if !ok || err != nil {
		t.Errorf("with bridge-nf-call-iptables=0, a1 -> a2 TCP 80: %v, %v; want connected, past the rule", ok, err)
	}
	if ok, err := l.Probe(context.Background(), "a1", ip("a2", false), model.TCP, 80); ok || err != nil {
		t.Errorf("with bridge-nf-call-iptables=1 again, a1 -> a2 TCP 80: %v, %v; want denied", ok, err)
	}
}

// TestPrivilegedSCTPConntrack is the control for the zero invalid count
// above: conntrack in a node marks an SCTP INIT with a wrong checksum
// invalid (so it does check), and lets the lab's own INIT and INIT ACK
// through.
func TestPrivilegedSCTPConntrack(t *testing.T) {
	l := upLab(t, Topology{Hosts: []Host{
		{Name: "a1", Node: "a", Ports: allProtocols},
		{Name: "b1", Node: "b", Ports: allProtocols},
	}})
	topo := l.Topology()
	nftApply(t, l, "a", `table inet bulkhead {
  chain filter_forward {
    type filter hook forward priority filter; policy accept;
    ct state invalid counter drop comment "invalid"
    meta l4proto sctp ct state new counter comment "new"
  }
}`)
	b1 := must(topo.Host("b1")).Addrs[0]
	if ok, err := l.Probe(context.Background(), "a1", b1, model.SCTP, 9); !ok || err != nil {
		t.Fatalf("SCTP probe: %v, %v", ok, err)
	}
	if n := counter(t, l, "a", "invalid"); n != 0 {
		t.Errorf("a good INIT / INIT ACK: %d invalid packets, want 0", n)
	}
	if n := counter(t, l, "a", "new"); n != 1 {
		t.Errorf("a good INIT: %d new SCTP connections, want 1", n)
	}
	// Send an INIT with a corrupted checksum from a1.
	ns, err := l.HostNetns("a1")
	if err != nil {
		t.Fatal(err)
	}
	bad := sctpInitPacket(50000, 9, 0xcafe, 1)
	bad[8] ^= 0xff
	err = RunIn(ns, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_SCTP)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Sendto(fd, bad, 0, &unix.SockaddrInet4{Addr: b1.As4()})
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for counter(t, l, "a", "invalid") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("an INIT with a bad checksum was not counted invalid: conntrack does not check SCTP checksums here, so the zero count of TestPrivilegedForwardHook proves nothing")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hostState lists the links, addresses and routes of the calling
// process's namespace (the host's), which the lab must never change.
func hostState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		fmt.Fprintf(&b, "link %d %s %s master %d\n", l.Attrs().Index, l.Attrs().Name, l.Type(), l.Attrs().MasterIndex)
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		fmt.Fprintf(&b, "addr %s dev %d\n", a.IPNet, a.LinkIndex)
	}
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		fmt.Fprintf(&b, "route table %d %s via %s dev %d\n", r.Table, r.Dst, r.Gw, r.LinkIndex)
	}
	return b.String()
}

func TestPrivilegedHostUntouched(t *testing.T) {
	netnstest.RequireRoot(t)
	before := hostState(t)
	self, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	topo := twoNodes()
	topo.Prefix = testPrefix()
	l, err := Up(context.Background(), topo, nil)
	if err != nil {
		t.Fatal(err)
	}
	if denied, _ := probeAll(t, l); len(denied) > 0 {
		t.Errorf("with no rules, probes did not connect:\n%s", strings.Join(denied, "\n"))
	}
	during := hostState(t)
	for name, h := range l.ns {
		if h.Equal(self) {
			t.Errorf("lab namespace %s is the test's own namespace", name)
		}
	}
	if err := l.Down(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := hostState(t)
	if diff := cmp.Diff(before, during); diff != "" {
		t.Errorf("the lab changed the host's namespace (-before +during):\n%s", diff)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the host's namespace changed (-before +after):\n%s", diff)
	}
}

func TestPrivilegedDown(t *testing.T) {
	netnstest.RequireRoot(t)
	topo := twoNodes()
	topo.Prefix = testPrefix()
	l, err := Up(context.Background(), topo, nil)
	if err != nil {
		t.Fatal(err)
	}
	names, err := List(topo.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(l.Plan().Namespaces); len(names) != want {
		t.Errorf("List(%q) = %v, want %d namespaces", topo.Prefix, names, want)
	}
	if err := l.Down(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left, err := List(topo.Prefix); err != nil || len(left) > 0 {
		t.Errorf("after Down: %v left, %v", left, err)
	}
	if err := l.Down(context.Background()); err != nil {
		t.Errorf("second Down: %v", err)
	}
	if _, err := l.NodeNetns("a"); err == nil {
		t.Error("NodeNetns after Down: no error")
	}
	if ok, err := l.Probe(context.Background(), "a1", addr("192.168.77.7"), model.TCP, 80); ok || err == nil {
		t.Errorf("Probe after Down = %v, %v; want an error", ok, err)
	}
}

// TestPrivilegedCleanup leaves a lab behind as a crashed process would and
// checks that Up refuses the prefix until Cleanup removes it.
func TestPrivilegedCleanup(t *testing.T) {
	netnstest.RequireRoot(t)
	topo := twoNodes()
	topo.Prefix = testPrefix()
	defer Cleanup(topo.Prefix)
	l, err := Up(context.Background(), topo, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Close() // handles and listeners go, namespaces stay
	left, err := List(topo.Prefix)
	if err != nil || len(left) != len(l.Plan().Namespaces) {
		t.Fatalf("after Close: %v, %v", left, err)
	}
	if _, err := Up(context.Background(), topo, nil); err == nil || !strings.Contains(err.Error(), "already exist") {
		t.Errorf("Up over a leftover lab: %v, want an 'already exist' error", err)
	}
	removed, err := Cleanup(topo.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(left, removed); diff != "" {
		t.Errorf("Cleanup removed (-want +got):\n%s", diff)
	}
	if left, _ := List(topo.Prefix); len(left) > 0 {
		t.Errorf("after Cleanup: %v", left)
	}
	if _, err := Cleanup(""); err == nil {
		t.Error("Cleanup(\"\") accepted: it would match every namespace")
	}
	l2, err := Up(context.Background(), topo, nil)
	if err != nil {
		t.Fatalf("Up after Cleanup: %v", err)
	}
	if err := l2.Down(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestPrivilegedUpFailure makes Up fail at each stage and checks that it
// leaves nothing behind, in the host or under /run/netns.
func TestPrivilegedUpFailure(t *testing.T) {
	netnstest.RequireRoot(t)
	before := hostState(t)
	for _, stage := range []string{"namespaces", "links", "listeners"} {
		t.Run(stage, func(t *testing.T) {
			injected := errors.New("injected failure")
			upHook = func(s string) error {
				if s == stage {
					return injected
				}
				return nil
			}
			defer func() { upHook = nil }()
			topo := twoNodes()
			topo.Prefix = testPrefix()
			defer Cleanup(topo.Prefix)
			l, err := Up(context.Background(), topo, nil)
			if !errors.Is(err, injected) {
				t.Fatalf("Up = %v, %v; want the injected error", l, err)
			}
			if left, _ := List(topo.Prefix); len(left) > 0 {
				t.Errorf("a failed Up left %v", left)
			}
		})
	}
	if diff := cmp.Diff(before, hostState(t)); diff != "" {
		t.Errorf("the host's namespace changed (-before +after):\n%s", diff)
	}
}

func TestPrivilegedRunIn(t *testing.T) {
	l := upLab(t, Topology{Hosts: []Host{{Name: "p", Node: "n"}}})
	ns, err := l.NodeNetns("n")
	if err != nil {
		t.Fatal(err)
	}
	self, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	var inside netns.NsHandle
	err = RunIn(ns, func() (err error) {
		inside, err = netns.Get()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer inside.Close()
	if !inside.Equal(ns) {
		t.Errorf("RunIn ran in %v, want the node's namespace %v", inside.UniqueId(), ns.UniqueId())
	}
	for range 100 { // the pooled thread is back in the test's namespace
		now, err := netns.Get()
		if err != nil {
			t.Fatal(err)
		}
		if !now.Equal(self) {
			t.Fatalf("after RunIn, a goroutine runs in %v, want %v", now.UniqueId(), self.UniqueId())
		}
		now.Close()
	}
	sentinel := errors.New("sentinel")
	if err := RunIn(ns, func() error { return sentinel }); err != sentinel {
		t.Errorf("RunIn error = %v, want the function's", err)
	}
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the function's panic", p)
			}
		}()
		RunIn(ns, func() error { panic("boom") })
	}()
	// bridge netfilter is on in the node, where it makes bridged traffic
	// visible to the forward hook.
	for _, key := range []string{"net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables", "net.ipv4.ip_forward"} {
		var v string
		if err := RunIn(ns, func() (err error) { v, err = readSysctl(key); return err }); err != nil || v != "1" {
			t.Errorf("node sysctl %s = %q, %v; want 1", key, v, err)
		}
	}
}

func TestPrivilegedAttach(t *testing.T) {
	l := upLab(t, Topology{Hosts: []Host{
		{Name: "a1", Node: "a", Ports: allProtocols},
		{Name: "b1", Node: "b", Ports: allProtocols},
	}})
	topo := Topology{Prefix: l.Topology().Prefix, Hosts: []Host{
		{Name: "a1", Node: "a", Ports: allProtocols},
		{Name: "b1", Node: "b", Ports: allProtocols},
	}}
	att, err := Attach(topo, nil)
	if err != nil {
		t.Fatal(err)
	}
	b1 := must(att.Topology().Host("b1")).Addrs[0]
	for _, p := range allProtocols {
		if ok, err := att.Probe(context.Background(), "a1", b1, p.Protocol, p.Port); !ok || err != nil {
			t.Errorf("attached probe %v: %v, %v", p, ok, err)
		}
	}
	if err := att.Close(); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.Probe(context.Background(), "a1", b1, model.TCP, 80); !ok || err != nil {
		t.Errorf("after the attached lab closed, the original's probe: %v, %v", ok, err)
	}
	if _, err := Attach(Topology{Prefix: testPrefix(), Hosts: topo.Hosts}, nil); err == nil {
		t.Error("Attach to a lab that is not up: no error")
	}
}

func TestPrivilegedProbeErrors(t *testing.T) {
	l := upLab(t, Topology{Hosts: []Host{
		{Name: "a", Node: "n", Ports: allProtocols},
		{Name: "b", Node: "n", Ports: allProtocols},
		{Name: "v6", Node: "n", Addrs: []netip.Addr{addr("fd00:10:244::9")}, Ports: allProtocols},
	}})
	topo := l.Topology()
	a, b := must(topo.Host("a")).Addrs[0], must(topo.Host("b")).Addrs[0]
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		spec ProbeSpec
		want string
	}{
		{"unknown source", context.Background(), ProbeSpec{Src: "nope", Dst: b, Protocol: model.TCP, Port: 80}, `no host "nope"`},
		{"not in the lab", context.Background(), ProbeSpec{Src: "a", Dst: addr("192.0.2.1"), Protocol: model.TCP, Port: 80}, "no lab host's address"},
		{"no source family", context.Background(), ProbeSpec{Src: "a", Dst: addr("fd00:10:244::9"), Protocol: model.UDP, Port: 53}, "has no IPv6 address"},
		{"port 0", context.Background(), ProbeSpec{Src: "a", Dst: b, Protocol: model.TCP}, "port 0"},
		{"protocol", context.Background(), ProbeSpec{Src: "a", Dst: b, Port: 80}, "protocol Unknown"},
		{"canceled", canceled, ProbeSpec{Src: "a", Dst: b, Protocol: model.TCP, Port: 80}, "context canceled"},
	} {
		r := l.ProbeAll(tt.ctx, []ProbeSpec{tt.spec}, 1)[0]
		if r.Err == nil || !strings.Contains(r.Err.Error(), tt.want) || r.Allowed() {
			t.Errorf("%s: %v (outcome %v), want an error with %q", tt.name, r.Err, r.Outcome, tt.want)
		}
	}

	// Drop everything the node forwards: a to b times out, a to itself,
	// which never leaves a's namespace, still connects, and a context
	// that ends mid-probe cuts a long timeout short.
	nftApply(t, l, "n", `table inet bulkhead {
  chain filter_forward {
    type filter hook forward priority filter; policy drop;
  }
}`)
	for _, p := range allProtocols {
		if ok, err := l.Probe(context.Background(), "a", a, p.Protocol, p.Port); !ok || err != nil {
			t.Errorf("%v from a to itself: %v, %v; want connected", p.Protocol, ok, err)
		}
		r := l.ProbeAll(context.Background(), []ProbeSpec{{Src: "a", Dst: b, Protocol: p.Protocol, Port: p.Port, Timeout: 100 * time.Millisecond}}, 1)[0]
		if r.Outcome != TimedOut || r.Err != nil || r.Tries != 2 || r.Elapsed < 200*time.Millisecond {
			t.Errorf("%v from a to b, dropped: %v, %v, %d tries in %v; want two 100ms timeouts", p.Protocol, r.Outcome, r.Err, r.Tries, r.Elapsed)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		r = l.ProbeAll(ctx, []ProbeSpec{{Src: "a", Dst: b, Protocol: p.Protocol, Port: p.Port, Timeout: 10 * time.Second}}, 1)[0]
		if r.Err == nil || !errors.Is(r.Err, context.Canceled) && !strings.Contains(r.Err.Error(), "context canceled") || r.Elapsed > 5*time.Second {
			t.Errorf("%v canceled mid-probe: %v, %v after %v; want the context's error at once", p.Protocol, r.Outcome, r.Err, r.Elapsed)
		}
		cancel()
	}
}
