//go:build linux

package lab

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bulkhead/bulkhead/model"
)

// resends is how many times a UDP or SCTP probe sends its datagram within
// its timeout, standing in for the retransmissions of a real client: a
// datagram lost to a full queue on a busy machine must not read as
// "denied".
const resends = 4

// Probe tries one connection from inside host src's namespace to dst, an
// address of a lab host, and reports whether it connected: a completed
// TCP handshake, a UDP echo carrying the probe's random nonce, or an SCTP
// INIT ACK carrying the probe's verification tag. Each try lasts
// DefaultProbeTimeout at most, and a try that times out is made once more
// (see ProbeAll), so a flow that rules drop costs two timeouts. ctx
// cancels the probe.
//
// The error is for probes that cannot be made (unknown source, dst not in
// the lab, no source address of dst's family, closed lab); a refused,
// unreachable or unanswered flow is false with a nil error.
func (l *Lab) Probe(ctx context.Context, src HostName, dst netip.Addr, proto model.Protocol, port uint16) (bool, error) {
	r := l.ProbeAll(ctx, []ProbeSpec{{Src: src, Dst: dst, Protocol: proto, Port: port}}, 1)[0]
	return r.Allowed(), r.Err
}

// ProbeAll runs specs with up to concurrency probes in flight
// (DefaultConcurrency when concurrency is not positive) and returns their
// results in the order of specs. Probes not started when ctx ends get
// ctx's error.
//
// Probes that time out are tried once more, after the others: a process
// or machine stalled longer than the timeout (a loaded CI runner) would
// otherwise turn an allowed flow into a denied one, while a flow that
// rules drop times out twice. Result.Tries says which were retried.
func (l *Lab) ProbeAll(ctx context.Context, specs []ProbeSpec, concurrency int) []Result {
	results := l.probeAll(ctx, specs, concurrency)
	var again []int
	for i, r := range results {
		if r.Outcome == TimedOut {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return results
	}
	retry := make([]ProbeSpec, len(again))
	for k, i := range again {
		retry[k] = specs[i]
	}
	for k, r := range l.probeAll(ctx, retry, concurrency) {
		i := again[k]
		if r.Err != nil { // canceled: the first try's timeout stands
			continue
		}
		r.Tries = 2
		r.Elapsed += results[i].Elapsed
		results[i] = r
	}
	return results
}

func (l *Lab) probeAll(ctx context.Context, specs []ProbeSpec, concurrency int) []Result {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	results := make([]Result, len(specs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(concurrency, len(specs)) {
		wg.Go(func() {
			for i := range next {
				results[i] = l.probe(ctx, specs[i])
			}
		})
	}
	for i := range specs {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

func (l *Lab) probe(ctx context.Context, spec ProbeSpec) (r Result) {
	r.ProbeSpec = spec
	r.Tries = 1
	start := time.Now()
	defer func() { r.Elapsed = time.Since(start) }()
	fail := func(format string, args ...any) Result {
		r.Err = fmt.Errorf("probe %v: %s", spec, fmt.Sprintf(format, args...))
		return r
	}
	if err := ctx.Err(); err != nil {
		return fail("%v", err)
	}
	src, ok := l.hosts[spec.Src]
	if !ok {
		return fail("no host %q", spec.Src)
	}
	dst := spec.Dst.Unmap()
	if !l.addrs[dst] {
		return fail("%s is no lab host's address", dst)
	}
	from := src.host.Addr(dst.Is6())
	if !from.IsValid() {
		return fail("host %q has no %s address", spec.Src, familyName(family(dst)))
	}
	if spec.Port == 0 {
		return fail("port 0")
	}
	timeout := spec.Timeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ns := src.netns
	to := netip.AddrPortFrom(dst, spec.Port)
	var err error
	switch spec.Protocol {
	case model.TCP:
		r.Outcome, err = l.probeTCP(ctx, ns, from, to, deadline)
	case model.UDP:
		r.Outcome, err = l.probeUDP(ctx, ns, from, to, deadline)
	case model.SCTP:
		r.Outcome, err = l.probeSCTP(ctx, ns, from, to, deadline)
	default:
		return fail("protocol %v", spec.Protocol)
	}
	if err != nil {
		r.Outcome = OutcomeUnknown
		return fail("%v", err)
	}
	return r
}

// classify maps a socket error to an outcome, or returns it as an error
// when it says nothing about the network.
func classify(err error) (Outcome, error) {
	var errno syscall.Errno
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return TimedOut, nil
	case errors.As(err, &errno):
		switch errno {
		case unix.ECONNREFUSED, unix.ECONNRESET, unix.ENOPROTOOPT, unix.EPROTONOSUPPORT:
			return Refused, nil
		case unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EACCES, unix.EPERM, unix.EHOSTDOWN, unix.ENETDOWN:
			return Unreachable, nil
		}
	}
	return OutcomeUnknown, err
}

// stopOnCancel makes ctx's end interrupt the blocked I/O of a socket by
// moving its deadline to now.
func stopOnCancel(ctx context.Context, c interface{ SetDeadline(time.Time) error }) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
}

// probeTCP starts a connection attempt every timeout/resends and returns
// the first answer. The kernel would retransmit a lost SYN only after a
// second, later than a probe's timeout, so a lost packet on a busy
// machine would otherwise read as "denied".
func (l *Lab) probeTCP(ctx context.Context, ns string, from netip.Addr, to netip.AddrPort, deadline time.Time) (Outcome, error) {
	ctx, cancel := context.WithCancel(ctx) // ends the other attempts
	defer cancel()
	type result struct {
		o   Outcome
		err error
	}
	results := make(chan result, resends)
	launch := func() {
		go func() {
			o, err := l.connectTCP(ctx, ns, from, to, deadline)
			results <- result{o, err}
		}()
	}
	launch()
	ticker := time.NewTicker(max(time.Until(deadline)/resends, time.Millisecond))
	defer ticker.Stop()
	for launched := 1; ; {
		select {
		case r := <-results:
			// All attempts share the deadline: the first to time out
			// means they all have.
			return r.o, r.err
		case <-ticker.C:
			if launched < resends {
				launch()
				launched++
			}
		}
	}
}

// connectTCP connects from a socket created in namespace ns: only socket()
// depends on the thread's namespace, so the connect runs non-blocking on
// Go's poller instead of pinning a thread for the whole handshake. The
// socket closes with SO_LINGER 0 (a RST), so thousands of probes leave no
// TIME_WAIT behind.
func (l *Lab) connectTCP(ctx context.Context, ns string, from netip.Addr, to netip.AddrPort, deadline time.Time) (Outcome, error) {
	domain := unix.AF_INET
	if from.Is6() {
		domain = unix.AF_INET6
	}
	fd, err := openIn(l, ns, func() (int, error) {
		return unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	})
	if err != nil {
		return OutcomeUnknown, fmt.Errorf("socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), "tcp-probe")
	defer f.Close()
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		return OutcomeUnknown, fmt.Errorf("linger: %w", err)
	}
	if err := unix.Bind(fd, sockaddr(netip.AddrPortFrom(from, 0))); err != nil {
		return OutcomeUnknown, fmt.Errorf("bind %s: %w", from, err)
	}
	switch err := unix.Connect(fd, sockaddr(to)); {
	case err == nil:
		return Connected, nil
	case errors.Is(err, unix.EINPROGRESS):
	default:
		return classify(err)
	}
	if err := f.SetWriteDeadline(deadline); err != nil {
		return OutcomeUnknown, err
	}
	defer stopOnCancel(ctx, f)()
	rc, err := f.SyscallConn()
	if err != nil {
		return OutcomeUnknown, err
	}
	var connErr error
	werr := rc.Write(func(fd uintptr) bool {
		v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err != nil:
			connErr = err
		case v != 0:
			connErr = syscall.Errno(v)
		default:
			// SO_ERROR is 0 both while connecting and once connected.
			if _, err := unix.Getpeername(int(fd)); errors.Is(err, unix.ENOTCONN) {
				return false // wait for writability
			}
		}
		return true
	})
	if werr != nil {
		return l.canceled(ctx, werr)
	}
	if connErr != nil {
		return classify(connErr)
	}
	return Connected, nil
}

// canceled reports a deadline hit because ctx ended as ctx's error, and
// one hit because the probe's time ran out as TimedOut.
func (l *Lab) canceled(ctx context.Context, err error) (Outcome, error) {
	if ctx.Err() != nil {
		return OutcomeUnknown, ctx.Err()
	}
	return classify(err)
}

// probeUDP sends a random nonce from a socket connected to the target and
// waits for the same bytes to come back from it, sending again a few
// times within the timeout.
func (l *Lab) probeUDP(ctx context.Context, ns string, from netip.Addr, to netip.AddrPort, deadline time.Time) (Outcome, error) {
	c, err := openIn(l, ns, func() (*net.UDPConn, error) {
		return net.DialUDP(network("udp", from), net.UDPAddrFromAddrPort(netip.AddrPortFrom(from, 0)), net.UDPAddrFromAddrPort(to))
	})
	if err != nil {
		return OutcomeUnknown, err
	}
	defer c.Close()
	defer stopOnCancel(ctx, c)()
	nonce := make([]byte, 16)
	crand.Read(nonce)
	buf := make([]byte, 64)
	return l.exchange(ctx, c, deadline, nonce, func(b []byte) (Outcome, bool) {
		return Connected, bytes.Equal(b, nonce)
	}, buf, c.Read)
}

// probeSCTP sends an INIT from a raw SCTP socket bound to from and
// connected to the target address (so it only sees packets from there)
// and waits for an INIT ACK or ABORT carrying its initiate tag.
func (l *Lab) probeSCTP(ctx context.Context, ns string, from netip.Addr, to netip.AddrPort, deadline time.Time) (Outcome, error) {
	c, err := openIn(l, ns, func() (*net.IPConn, error) {
		return net.DialIP(network("ip", from)+":132", &net.IPAddr{IP: from.AsSlice()}, &net.IPAddr{IP: to.Addr().AsSlice()})
	})
	if err != nil {
		return OutcomeUnknown, err
	}
	defer c.Close()
	defer stopOnCancel(ctx, c)()
	srcPort := uint16(49152 + rand.IntN(16384))
	tag := rand.Uint32() | 1 // never 0
	init := sctpInitPacket(srcPort, to.Port(), tag, rand.Uint32())
	buf := make([]byte, 2048) // an INIT ACK is ~60 bytes; longer packets are not ours
	read := func(b []byte) (int, error) {
		n, _, err := c.ReadFromIP(b) // ReadFromIP strips the IPv4 header
		return n, err
	}
	return l.exchange(ctx, c, deadline, init, func(b []byte) (Outcome, bool) {
		accepted, ok := sctpReply(b, srcPort, to.Port(), tag)
		if accepted {
			return Connected, ok
		}
		return Refused, ok
	}, buf, read)
}

// exchange sends msg over c and reads replies until match accepts one,
// resending msg evenly within the time left; match returns the outcome a
// reply means and whether the reply belongs to this probe.
func (l *Lab) exchange(ctx context.Context, c net.Conn, deadline time.Time, msg []byte, match func([]byte) (Outcome, bool), buf []byte, read func([]byte) (int, error)) (Outcome, error) {
	interval := time.Until(deadline) / resends
	for {
		if err := ctx.Err(); err != nil {
			return OutcomeUnknown, err
		}
		if _, err := c.Write(msg); err != nil {
			return l.canceled(ctx, err)
		}
		next := time.Now().Add(interval)
		if next.After(deadline) || deadline.Sub(next) < interval/2 {
			next = deadline
		}
		if err := c.SetReadDeadline(next); err != nil {
			return OutcomeUnknown, err
		}
		for {
			n, err := read(buf)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil && time.Now().Before(deadline) {
					break // send again
				}
				return l.canceled(ctx, err)
			}
			if o, ok := match(buf[:n]); ok {
				return o, nil
			}
		}
	}
}

func network(kind string, a netip.Addr) string {
	if a.Is4() {
		return kind + "4"
	}
	return kind + "6"
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
	}
	return &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
}
