//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Lab is a running lab: its namespaces, and the listeners of its hosts.
// Its methods are safe for concurrent use.
type Lab struct {
	plan *Plan
	log  *slog.Logger
	// ns holds a handle on every namespace of the plan, by name.
	ns map[string]netns.NsHandle
	// hosts and addrs index the resolved topology for probes.
	hosts map[HostName]hostInfo
	addrs map[netip.Addr]bool

	// owned are the namespaces Down deletes: those Up created, or every
	// namespace of an attached lab.
	owned []string

	// mu guards closed and listeners; probes hold it for reading while
	// they use a namespace handle, so that Close never closes one in use.
	mu        sync.RWMutex
	closed    bool
	listeners []io.Closer
	wg        sync.WaitGroup
}

// hostInfo is what a probe needs of its source host.
type hostInfo struct {
	host  Host
	netns string
}

func newLab(plan *Plan, logger *slog.Logger) *Lab {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l := &Lab{plan: plan, log: logger, ns: map[string]netns.NsHandle{}, hosts: map[HostName]hostInfo{}, addrs: map[netip.Addr]bool{}}
	for _, hs := range [][]Host{plan.Topology.Hosts, plan.Topology.External} {
		for _, h := range hs {
			l.hosts[h.Name] = hostInfo{host: h, netns: plan.HostNetns(h.Name)}
			for _, a := range h.Addrs {
				l.addrs[a] = true
			}
		}
	}
	return l
}

// upHook, when set by a test, runs at each stage of Up and fails it with
// the error it returns, to check that Up undoes a partial lab.
var upHook func(stage string) error

func runUpHook(stage string) error {
	if upHook == nil {
		return nil
	}
	return upHook(stage)
}

// Up builds topo on this machine: a named network namespace per node, per
// pod and (when there are external hosts) for the outside, linked and
// addressed as Plan lays out, with a listener on every declared port of
// every host. It returns once every link is up, every address usable and
// every listener open, so the first probe already sees the real network.
// It creates nothing in the caller's namespace except the bind mounts
// under NetnsDir, and no route leads out of the lab.
//
// Up fails when a namespace with the topology's prefix already exists
// (run Cleanup first), and when bridge netfilter is missing from the
// kernel, since bridged traffic would then bypass the forward hook. On any
// failure, Up deletes what it created. A nil logger discards.
func Up(ctx context.Context, topo Topology, logger *slog.Logger) (*Lab, error) {
	plan, err := topo.Plan()
	if err != nil {
		return nil, err
	}
	prefix := plan.Topology.Prefix
	if old, err := List(prefix); err != nil {
		return nil, err
	} else if len(old) > 0 {
		return nil, fmt.Errorf("lab %q: %d namespaces with this prefix already exist (%s ...); delete them with Cleanup(%q) (bulkhead lab down)", prefix, len(old), old[0], prefix)
	}
	l := newLab(plan, logger)
	if err := l.build(ctx); err != nil {
		if derr := l.Down(context.WithoutCancel(ctx)); derr != nil {
			err = errors.Join(err, fmt.Errorf("undoing a failed lab: %w", derr))
		}
		return nil, err
	}
	l.log.Info("lab up", "prefix", prefix, "nodes", len(plan.Topology.Nodes), "pods", len(plan.Topology.Hosts), "external", len(plan.Topology.External))
	return l, nil
}

// build creates l's plan; Up deletes what it made when it fails.
func (l *Lab) build(ctx context.Context) error {
	plan, prefix := l.plan, l.plan.Topology.Prefix
	for _, p := range plan.Namespaces {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := createNamed(p.Name)
		if err != nil {
			return err
		}
		l.ns[p.Name] = h
		l.owned = append(l.owned, p.Name)
	}
	l.log.Debug("lab namespaces created", "prefix", prefix, "count", len(plan.Namespaces))
	if err := runUpHook("namespaces"); err != nil {
		return err
	}

	handles := map[string]*netlink.Handle{}
	defer func() {
		for _, h := range handles {
			h.Close()
		}
	}()
	for _, p := range plan.Namespaces {
		h, err := netlink.NewHandleAt(l.ns[p.Name], unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netns %s: netlink: %w", p.Name, err)
		}
		handles[p.Name] = h
		if err := RunIn(l.ns[p.Name], func() error { return applySysctls(p) }); err != nil {
			return fmt.Errorf("netns %s: %w", p.Name, err)
		}
	}
	// Links first, in every namespace (veth peers appear in others), then
	// everything up, then addresses, neighbours and routes.
	for _, p := range plan.Namespaces {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := l.addLinks(handles[p.Name], p); err != nil {
			return fmt.Errorf("netns %s: %w", p.Name, err)
		}
	}
	if err := runUpHook("links"); err != nil {
		return err
	}
	for _, p := range plan.Namespaces {
		if err := configure(handles[p.Name], p); err != nil {
			return fmt.Errorf("netns %s: %w", p.Name, err)
		}
	}
	l.log.Debug("lab links and routes added; waiting for the kernel", "prefix", prefix)
	if err := waitReady(ctx, handles, plan); err != nil {
		return err
	}
	l.log.Debug("lab network configured", "prefix", prefix)
	if err := l.startListeners(); err != nil {
		return err
	}
	return runUpHook("listeners")
}

// Attach returns a Lab for topo's namespaces, which another process
// built with Up and keeps listening in: probes and NodeNetns work, but
// this Lab runs no listeners. Because Resolve assigns addresses
// deterministically, the same Topology gives the same addresses in both
// processes. Close releases the handles; Down also deletes the
// namespaces.
func Attach(topo Topology, logger *slog.Logger) (*Lab, error) {
	plan, err := topo.Plan()
	if err != nil {
		return nil, err
	}
	l := newLab(plan, logger)
	for _, p := range plan.Namespaces {
		h, err := netns.GetFromName(p.Name)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("lab %q: netns %s: %w (is the lab up?)", plan.Topology.Prefix, p.Name, err)
		}
		l.ns[p.Name] = h
		l.owned = append(l.owned, p.Name)
	}
	return l, nil
}

func applySysctls(p NetnsPlan) error {
	for _, s := range p.Sysctls {
		if err := writeSysctl(s.Key, s.Value); err != nil {
			if p.Kind == NetnsNode && s.Key == "net.bridge.bridge-nf-call-iptables" {
				return fmt.Errorf("%w: this kernel lacks bridge netfilter (CONFIG_BRIDGE_NETFILTER), so traffic between pods of one node would bypass the inet forward hook", err)
			}
			return err
		}
	}
	return nil
}

func (l *Lab) addLinks(h *netlink.Handle, p NetnsPlan) error {
	for _, lp := range p.Links {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = lp.Name
		attrs.HardwareAddr = lp.MAC
		attrs.Flags = net.FlagUp
		var link netlink.Link
		switch lp.Kind {
		case "bridge":
			off := false
			link = &netlink.Bridge{LinkAttrs: attrs, MulticastSnooping: &off}
		case "veth":
			if lp.Master != "" {
				m, err := h.LinkByName(lp.Master)
				if err != nil {
					return fmt.Errorf("link %s: master %s: %w", lp.Name, lp.Master, err)
				}
				attrs.MasterIndex = m.Attrs().Index
			}
			link = &netlink.Veth{
				LinkAttrs:        attrs,
				PeerName:         lp.PeerName,
				PeerHardwareAddr: lp.PeerMAC,
				PeerNamespace:    netlink.NsFd(int(l.ns[lp.PeerNetns])),
			}
		default:
			return fmt.Errorf("link %s: unknown kind %q", lp.Name, lp.Kind)
		}
		if err := h.LinkAdd(link); err != nil {
			return fmt.Errorf("link %s (%s): %w", lp.Name, lp.Kind, err)
		}
	}
	return nil
}

// configure brings every link of p's namespace up (loopback and veth
// peers made from other namespaces included) and adds p's addresses,
// neighbours and routes.
func configure(h *netlink.Handle, p NetnsPlan) error {
	links, err := h.LinkList()
	if err != nil {
		return err
	}
	byName := map[string]netlink.Link{}
	for _, link := range links {
		byName[link.Attrs().Name] = link
		if err := h.LinkSetUp(link); err != nil {
			return fmt.Errorf("link %s up: %w", link.Attrs().Name, err)
		}
	}
	dev := func(name string) (netlink.Link, error) {
		if link, ok := byName[name]; ok {
			return link, nil
		}
		return nil, fmt.Errorf("no link %s", name)
	}
	for _, a := range p.Addrs {
		link, err := dev(a.Dev)
		if err != nil {
			return err
		}
		addr := &netlink.Addr{IPNet: ipNet(a.Prefix)}
		if a.Prefix.Addr().Is6() {
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := h.AddrAdd(link, addr); err != nil {
			return fmt.Errorf("addr %s dev %s: %w", a.Prefix, a.Dev, err)
		}
	}
	for _, n := range p.Neighs {
		link, err := dev(n.Dev)
		if err != nil {
			return err
		}
		nb := &netlink.Neigh{
			LinkIndex:    link.Attrs().Index,
			Family:       familyOf(n.IP),
			State:        netlink.NUD_PERMANENT,
			IP:           n.IP.AsSlice(),
			HardwareAddr: n.MAC,
		}
		if err := h.NeighAdd(nb); err != nil {
			return fmt.Errorf("neigh %s dev %s: %w", n.IP, n.Dev, err)
		}
	}
	for _, r := range p.Routes {
		link, err := dev(r.Dev)
		if err != nil {
			return err
		}
		rt := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: ipNet(r.Dst), Family: familyOf(r.Dst.Addr())}
		if r.Via.IsValid() {
			rt.Gw = r.Via.AsSlice()
		} else {
			rt.Scope = netlink.SCOPE_LINK
		}
		if err := h.RouteAdd(rt); err != nil {
			return fmt.Errorf("route %s dev %s: %w", r.Dst, r.Dev, err)
		}
	}
	return nil
}

// waitReady waits until the kernel has finished what it does
// asynchronously after Up's requests, so that no probe loses its first
// packets:
//
//   - every veth, and every bridge with ports, is operationally up. The
//     kernel applies carrier changes from a work queue (link watch), and
//     until then a link's transmit queue drops every packet; for TCP a
//     lost SYN means a one-second retransmission.
//   - every address has its local route. IPv6 inserts it from its address
//     configuration work queue even for addresses without duplicate
//     address detection; until then a pod's packets to its own IPv6
//     address leave by the default route and come back "not local".
func waitReady(ctx context.Context, handles map[string]*netlink.Handle, plan *Plan) error {
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range plan.Namespaces {
		h := handles[p.Name]
		for {
			pending, err := notReady(h, p)
			if err != nil {
				return fmt.Errorf("netns %s: %w", p.Name, err)
			}
			if len(pending) == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("netns %s: not ready after 10s: %s", p.Name, strings.Join(pending, ", "))
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
	return nil
}

// notReady lists what in p's namespace is not ready yet (see waitReady).
func notReady(h *netlink.Handle, p NetnsPlan) ([]string, error) {
	links, err := h.LinkList()
	if err != nil {
		return nil, err
	}
	hasPorts := map[int]bool{}
	index := map[string]int{}
	for _, link := range links {
		hasPorts[link.Attrs().MasterIndex] = true
		index[link.Attrs().Name] = link.Attrs().Index
	}
	var pending []string
	for _, link := range links {
		a := link.Attrs()
		if (link.Type() == "veth" || link.Type() == "bridge" && hasPorts[a.Index]) && a.OperState != netlink.OperUp {
			pending = append(pending, "link "+a.Name+" "+a.OperState.String())
		}
	}
	routes, err := h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_LOCAL}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, err
	}
	type local struct {
		addr netip.Addr
		dev  int
	}
	locals := map[local]bool{}
	for _, r := range routes {
		if r.Type != unix.RTN_LOCAL || r.Dst == nil {
			continue
		}
		if a, ok := netip.AddrFromSlice(r.Dst.IP); ok {
			locals[local{a.Unmap(), r.LinkIndex}] = true
		}
	}
	for _, a := range p.Addrs {
		if !locals[local{a.Prefix.Addr(), index[a.Dev]}] {
			pending = append(pending, fmt.Sprintf("address %s dev %s", a.Prefix.Addr(), a.Dev))
		}
	}
	return pending, nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func familyOf(a netip.Addr) int {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// Plan returns the plan the lab was built from; its Topology is the
// resolved one, with every host's addresses. The caller must not modify
// it.
func (l *Lab) Plan() *Plan { return l.plan }

// Topology returns the resolved topology: prefix, node CIDRs, and every
// host's addresses (given or assigned) and ports. Compilers build their
// snapshot's pod IPs from it.
func (l *Lab) Topology() Topology { return l.plan.Topology.Clone() }

// NodeNetns returns a handle on node's network namespace, where a node
// agent's rules belong: pass it to RunIn, to netlink.NewHandleAt, or as
// nftables.WithNetNSFd(int(h)). The handle stays owned by the Lab and is
// valid until Close or Down; do not close it.
func (l *Lab) NodeNetns(node string) (netns.NsHandle, error) {
	name := l.plan.NodeNetns(node)
	if name == "" {
		return netns.None(), fmt.Errorf("lab %q: no node %q", l.plan.Topology.Prefix, node)
	}
	return l.handle(name)
}

// HostNetns returns a handle on the network namespace host lives in: its
// pod's, or the outside namespace for an external host. Like NodeNetns,
// the Lab owns it.
func (l *Lab) HostNetns(host HostName) (netns.NsHandle, error) {
	name := l.plan.HostNetns(host)
	if name == "" {
		return netns.None(), fmt.Errorf("lab %q: no host %q", l.plan.Topology.Prefix, host)
	}
	return l.handle(name)
}

func (l *Lab) handle(name string) (netns.NsHandle, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return netns.None(), l.errClosed()
	}
	return l.ns[name], nil
}

func (l *Lab) errClosed() error {
	return fmt.Errorf("lab %q is closed", l.plan.Topology.Prefix)
}

// runIn runs fn in namespace name (see RunIn), holding the handle open
// against a concurrent Close.
func (l *Lab) runIn(name string, fn func() error) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return l.errClosed()
	}
	return RunIn(l.ns[name], fn)
}

// Close stops the listeners and releases the namespace handles without
// deleting the namespaces. Closing twice is a no-op.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	closers := l.listeners
	l.listeners = nil
	l.mu.Unlock()

	var errs []error
	for _, c := range closers {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	l.wg.Wait()
	l.mu.Lock() // waits for probes that are creating sockets
	for _, h := range l.ns {
		if h.IsOpen() {
			h.Close()
		}
	}
	l.mu.Unlock()
	return errors.Join(errs...)
}

// Down stops the listeners and deletes every namespace of the lab; the
// kernel then frees their links, addresses and routes. It returns when
// the namespaces are unmounted or ctx ends. Calling it again deletes
// whatever the first call could not.
func (l *Lab) Down(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		errs := []error{l.Close()}
		for _, name := range l.owned {
			errs = append(errs, deleteNamed(name))
		}
		done <- errors.Join(errs...)
	}()
	select {
	case err := <-done:
		if err == nil {
			l.log.Info("lab down", "prefix", l.plan.Topology.Prefix)
		}
		return err
	case <-ctx.Done():
		return fmt.Errorf("lab %q down: %w", l.plan.Topology.Prefix, ctx.Err())
	}
}
