//go:build linux

package lab

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/bulkhead/bulkhead/model"
)

// startListeners opens every listener of the plan, each socket created
// inside its host's namespace, and serves them on goroutines until Close.
func (l *Lab) startListeners() error {
	for _, p := range l.plan.Namespaces {
		for _, lp := range p.Listeners {
			c, serve, err := l.listen(p.Name, lp)
			if err != nil {
				return fmt.Errorf("host %q: listen %s %s: %w", lp.Host, lp.Protocol, netip.AddrPortFrom(lp.Addr, lp.Port), err)
			}
			l.mu.Lock()
			l.listeners = append(l.listeners, c)
			l.mu.Unlock()
			l.wg.Go(serve)
		}
	}
	return nil
}

// listen opens lp's socket in namespace ns and returns it with the loop
// that serves it.
func (l *Lab) listen(ns string, lp ListenerPlan) (io.Closer, func(), error) {
	at := netip.AddrPortFrom(lp.Addr, lp.Port)
	switch lp.Protocol {
	case model.TCP:
		ln, err := openIn(l, ns, func() (*net.TCPListener, error) {
			return net.ListenTCP(network("tcp", lp.Addr), net.TCPAddrFromAddrPort(at))
		})
		return ln, func() { l.serveTCP(ln, lp) }, err
	case model.UDP:
		c, err := openIn(l, ns, func() (*net.UDPConn, error) {
			return net.ListenUDP(network("udp", lp.Addr), net.UDPAddrFromAddrPort(at))
		})
		return c, func() { l.serveUDP(c, lp) }, err
	case model.SCTP:
		c, err := openIn(l, ns, func() (*net.IPConn, error) {
			return net.ListenIP(network("ip", lp.Addr)+":132", &net.IPAddr{IP: lp.Addr.AsSlice()})
		})
		return c, func() { l.serveSCTP(c, lp) }, err
	}
	return nil, nil, fmt.Errorf("protocol %v", lp.Protocol)
}

// openIn runs open, which creates a socket, inside namespace ns.
func openIn[C any](l *Lab, ns string, open func() (C, error)) (C, error) {
	var c C
	err := l.runIn(ns, func() (err error) {
		c, err = open()
		return err
	})
	return c, err
}

// retry reports whether a serving loop should go on after err, pausing
// briefly on unexpected errors so that a persistent one cannot spin.
func (l *Lab) retry(err error, lp ListenerPlan) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	l.log.Warn("lab listener", "host", lp.Host, "protocol", lp.Protocol.String(), "addr", lp.Addr, "port", lp.Port, "err", err)
	time.Sleep(10 * time.Millisecond)
	return true
}

// serveTCP accepts and closes connections: the completed handshake is
// the answer.
func (l *Lab) serveTCP(ln *net.TCPListener, lp ListenerPlan) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if l.retry(err, lp) {
				continue
			}
			return
		}
		c.Close()
	}
}

// serveUDP echoes every datagram to its sender.
func (l *Lab) serveUDP(c *net.UDPConn, lp ListenerPlan) {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if l.retry(err, lp) {
				continue
			}
			return
		}
		if _, err := c.WriteToUDPAddrPort(buf[:n], from); err != nil && errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// serveSCTP answers INITs on a raw socket (see sctpResponder.answer).
// The socket also receives every other SCTP packet for its address, such
// as the INIT ACKs that probes from this host wait for; those need no
// answer.
func (l *Lab) serveSCTP(c *net.IPConn, lp ListenerPlan) {
	r := sctpResponder{Ports: lp.SCTPPorts, Rand: rand.Uint32}
	buf := make([]byte, 64<<10)
	for {
		n, from, err := c.ReadFromIP(buf)
		if err != nil {
			if l.retry(err, lp) {
				continue
			}
			return
		}
		if out := r.answer(buf[:n]); out != nil {
			if _, err := c.WriteToIP(out, from); err != nil && errors.Is(err, net.ErrClosed) {
				return
			}
		}
	}
}
