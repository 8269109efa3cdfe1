//go:build linux

package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/nfttest"
)

// probe is one connection attempt through the topology: a UDP datagram,
// which arrives if the first packet passes, or a TCP connect, which
// succeeds if the SYN and the SYN-ACK both pass.
type probe struct {
	hook     nft.Hook // where R sees the first packet
	from, to netns.NsHandle
	src, dst netip.Addr
	proto    nft.Proto
	sport    uint16 // TCP only
	dport    uint16
	id       string
}

// packets returns what the tracer must accept for the probe to succeed.
func (p probe) packets() []nft.Packet {
	first := nft.Packet{Hook: p.hook, Src: p.src, Dst: p.dst, Proto: p.proto, DPort: p.dport, Ct: nft.CtNew}
	if p.proto != nft.ProtoTCP {
		return []nft.Packet{first}
	}
	replyHook := map[nft.Hook]nft.Hook{nft.HookForward: nft.HookForward, nft.HookInput: nft.HookOutput, nft.HookOutput: nft.HookInput}[p.hook]
	reply := nft.Packet{Hook: replyHook, Src: p.dst, Dst: p.src, Proto: nft.ProtoTCP, DPort: p.sport, Ct: nft.CtEstablished}
	return []nft.Packet{first, reply}
}

func (p probe) String() string {
	s := fmt.Sprintf("%s %s %s -> %s dport %d", p.id, p.proto, p.src, p.dst, p.dport)
	if p.proto == nft.ProtoTCP {
		s += fmt.Sprintf(" sport %d", p.sport)
	}
	return s + " (" + p.hook.String() + ")"
}

var probePorts = []uint16{53, 80, 81, 443, 8080}

// listeners opens UDP sockets and TCP listeners on every probe port, for
// both families, in ns, and records the UDP payloads that arrive.
type listeners struct {
	mu   sync.Mutex
	got  map[string]bool
	udp  []*net.UDPConn
	tcp  []net.Listener
	done sync.WaitGroup
}

func listen(t *testing.T, ns netns.NsHandle) *listeners {
	l := &listeners{got: map[string]bool{}}
	netnstest.In(t, ns, func() {
		for _, port := range probePorts {
			u, err := net.ListenUDP("udp", &net.UDPAddr{Port: int(port)}) // dual-stack
			if err != nil {
				t.Fatalf("listen udp %d: %v", port, err)
			}
			c, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
			if err != nil {
				t.Fatalf("listen tcp %d: %v", port, err)
			}
			l.udp = append(l.udp, u)
			l.tcp = append(l.tcp, c)
		}
	})
	for _, u := range l.udp {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			buf := make([]byte, 512)
			for {
				n, _, err := u.ReadFromUDP(buf)
				if err != nil {
					return
				}
				l.mu.Lock()
				l.got[string(buf[:n])] = true
				l.mu.Unlock()
			}
		}()
	}
	for _, c := range l.tcp {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			for {
				conn, err := c.Accept()
				if err != nil {
					return
				}
				conn.Close()
			}
		}()
	}
	t.Cleanup(l.close)
	return l
}

func (l *listeners) close() {
	for _, u := range l.udp {
		u.Close()
	}
	for _, c := range l.tcp {
		c.Close()
	}
	l.done.Wait()
}

func (l *listeners) received(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.got[id]
}

// run sends the probes concurrently and reports which succeeded.
func runProbes(t *testing.T, probes []probe, at map[netns.NsHandle]*listeners) map[string]bool {
	ok := make(map[string]bool)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var success bool
			netnstest.In(t, p.from, func() {
				switch p.proto {
				case nft.ProtoUDP:
					c, err := net.DialUDP("udp", &net.UDPAddr{IP: p.src.AsSlice()}, &net.UDPAddr{IP: p.dst.AsSlice(), Port: int(p.dport)})
					if err != nil {
						t.Errorf("%v: %v", p, err)
						return
					}
					defer c.Close()
					// A datagram the output hook drops fails with EPERM:
					// the listener's record decides.
					if _, err := c.Write([]byte(p.id)); err != nil && !(p.hook == nft.HookOutput && errors.Is(err, unix.EPERM)) {
						t.Errorf("%v: send: %v", p, err)
					}
				case nft.ProtoTCP:
					d := net.Dialer{
						LocalAddr: &net.TCPAddr{IP: p.src.AsSlice(), Port: int(p.sport)},
						Timeout:   900 * time.Millisecond, // under the 1 s SYN retransmission
					}
					c, err := d.DialContext(context.Background(), "tcp", netip.AddrPortFrom(p.dst, p.dport).String())
					if err == nil {
						success = true
						c.Close()
					}
				}
			})
			mu.Lock()
			ok[p.id] = success
			mu.Unlock()
		}()
	}
	wg.Wait()
	time.Sleep(300 * time.Millisecond) // let the last datagrams arrive
	for _, p := range probes {
		if p.proto == nft.ProtoUDP {
			ok[p.id] = at[p.to].received(p.id)
		}
	}
	return ok
}

// TestPrivilegedTraceMatchesKernel applies random rulesets to a router
// namespace and sends real packets through it, forwarded, to it and from
// it, over IPv4 and IPv6, UDP and TCP (SYN and the established SYN-ACK),
// and checks that nft.Trace predicts what the kernel did with each.
func TestPrivilegedTraceMatchesKernel(t *testing.T) {
	tp := newTopo(t)
	rounds := 12
	if testing.Short() {
		rounds = 4
	}
	at := map[netns.NsHandle]*listeners{tp.R: listen(t, tp.R), tp.B: listen(t, tp.B), tp.A: listen(t, tp.A)}
	a := newApplier(t, tp.R, "bh_trace")
	g := nfttest.NewGen(7)
	g.Addrs4, g.Addrs6 = nil, nil
	for _, list := range [][]netip.Addr{tp.addrA, tp.addrB, tp.addrR, tp.addrRB} {
		for _, x := range list {
			if x.Is4() {
				g.Addrs4 = append(g.Addrs4, x)
			} else {
				g.Addrs6 = append(g.Addrs6, x)
			}
		}
	}
	g.Ports = probePorts
	g.Protos = []nft.Proto{nft.ProtoTCP, nft.ProtoUDP}
	sport := uint16(20000)
	total, accepted, retried := 0, 0, 0
	for round := range rounds {
		rs := g.Ruleset("bh_trace")
		if err := a.Apply(ctx(t), rs); err != nil {
			t.Fatalf("round %d: Apply: %v", round, err)
		}
		var probes []probe
		for i := range 64 {
			fam := g.Rand.IntN(2) // 0: IPv4, 1: IPv6
			pick := func(list []netip.Addr) netip.Addr {
				var c []netip.Addr
				for _, x := range list {
					if x.Is6() == (fam == 1) {
						c = append(c, x)
					}
				}
				return c[g.Rand.IntN(len(c))]
			}
			p := probe{
				proto: []nft.Proto{nft.ProtoTCP, nft.ProtoUDP}[g.Rand.IntN(2)],
				dport: probePorts[g.Rand.IntN(len(probePorts))],
				id:    fmt.Sprintf("r%dp%d", round, i),
			}
			sport++
			p.sport = sport
			switch g.Rand.IntN(5) {
			case 0, 1:
				p.hook, p.from, p.to, p.src, p.dst = nft.HookForward, tp.A, tp.B, pick(tp.addrA), pick(tp.addrB)
			case 2:
				p.hook, p.from, p.to, p.src, p.dst = nft.HookForward, tp.B, tp.A, pick(tp.addrB), pick(tp.addrA)
			case 3:
				p.hook, p.from, p.to, p.src, p.dst = nft.HookInput, tp.A, tp.R, pick(tp.addrA), pick(tp.addrR)
			case 4:
				p.hook, p.from, p.to, p.src, p.dst = nft.HookOutput, tp.R, tp.B, pick(tp.addrRB), pick(tp.addrB)
			}
			probes = append(probes, p)
		}
		got := runProbes(t, probes, at)
		expect := func(p probe) (bool, string) {
			want := true
			var why []string
			for _, pkt := range p.packets() {
				v, steps := nft.TraceSteps(rs, pkt)
				why = append(why, fmt.Sprintf("%v => %v %v", pkt, v, steps))
				want = want && v.Kind == nft.Accept
			}
			return want, strings.Join(why, "\n\t")
		}
		// A probe the kernel should have delivered but did not may have
		// been slow on a loaded machine: send it once more, as a new
		// flow. The other way round cannot be timing.
		var retry []probe
		for _, p := range probes {
			if want, _ := expect(p); want && !got[p.id] {
				sport++
				p.sport, p.id = sport, p.id+"-retry"
				retry = append(retry, p)
			}
		}
		retried += len(retry)
		if len(retry) > 0 {
			for id, ok := range runProbes(t, retry, at) {
				got[strings.TrimSuffix(id, "-retry")] = ok
			}
		}
		var bad []string
		for _, p := range probes {
			want, why := expect(p)
			total++
			if want {
				accepted++
			}
			if got[p.id] != want {
				bad = append(bad, fmt.Sprintf("%v: kernel delivered=%v, tracer=%v\n\t%s", p, got[p.id], want, why))
			}
		}
		if len(bad) > 0 {
			t.Fatalf("round %d: tracer and kernel disagree:\n%s\nruleset:\n%s", round, strings.Join(bad, "\n"), nft.Render(rs))
		}
	}
	t.Logf("%d probes over %d random rulesets agreed with the kernel (%d accepted, %d dropped; %d sent twice)", total, rounds, accepted, total-accepted, retried)
	if accepted == 0 || accepted == total {
		t.Errorf("the random rulesets accepted %d of %d probes; the test needs both outcomes to mean anything", accepted, total)
	}
}
