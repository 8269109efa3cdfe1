//go:build linux

package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/bulkhead/bulkhead/nft"
)

// DefaultSocketBuffer is the netlink socket send and receive buffer size
// Netlink asks for. A transaction is one sendmsg, which the kernel refuses
// beyond the send buffer, and its acknowledgements must fit the receive
// buffer; splitting a large update over several batches would lose
// atomicity, so the buffers grow instead (SO_SNDBUFFORCE and
// SO_RCVBUFFORCE, which need CAP_NET_ADMIN, as nftables does anyway).
// 64 MiB holds a batch of about half a million set elements.
const DefaultSocketBuffer = 64 << 20

// Config configures a Netlink applier.
type Config struct {
	// Table is the table the applier owns; "" means nft.DefaultTable.
	// Other names are for tests.
	Table string
	// NetNS is an open file descriptor of the network namespace to
	// program, which the caller keeps open while the applier is in use;
	// 0 means the namespace the applier's threads run in. NetNSPath, if
	// set, is opened instead (e.g. /var/run/netns/node1 or
	// /proc/PID/ns/net) and closed by Close.
	NetNS     int
	NetNSPath string
	// SocketBuffer is the netlink socket buffer size in bytes; 0 means
	// DefaultSocketBuffer.
	SocketBuffer int
	// Logger receives a debug record per transaction; nil discards.
	Logger *slog.Logger
}

// Netlink is an Applier that programs the kernel over netlink with
// github.com/google/nftables: one netlink batch, and so one nf_tables
// transaction, per Apply.
type Netlink struct {
	s      syncer
	k      *kernel
	nsFile *os.File
}

var _ Applier = (*Netlink)(nil)

type kernel struct {
	ns     int
	buffer int
	log    *slog.Logger
}

// New returns a Netlink applier for cfg. It does not touch the kernel.
func New(cfg Config) (*Netlink, error) {
	n := &Netlink{k: &kernel{ns: cfg.NetNS, buffer: cfg.SocketBuffer, log: cfg.Logger}}
	if cfg.NetNSPath != "" {
		f, err := os.Open(cfg.NetNSPath)
		if err != nil {
			return nil, fmt.Errorf("network namespace: %w", err)
		}
		n.nsFile = f
		n.k.ns = int(f.Fd())
	}
	if n.k.buffer == 0 {
		n.k.buffer = DefaultSocketBuffer
	}
	if n.k.log == nil {
		n.k.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	table := cfg.Table
	if table == "" {
		table = nft.DefaultTable
	}
	n.s = syncer{table: table, b: n.k}
	return n, nil
}

// Close releases the namespace opened from Config.NetNSPath. It leaves the
// table in the kernel.
func (n *Netlink) Close() error {
	if n.nsFile != nil {
		return n.nsFile.Close()
	}
	return nil
}

// Apply implements Applier. See the package documentation for how it
// chooses between a full replace and an incremental transaction.
func (n *Netlink) Apply(ctx context.Context, rs *nft.Ruleset) error {
	start := time.Now()
	d, st, err := n.s.apply(ctx, rs)
	n.logTx(ctx, start, d, st, err)
	return err
}

// ApplyDelta implements Applier.
func (n *Netlink) ApplyDelta(ctx context.Context, base, next *nft.Ruleset, d nft.Delta) error {
	start := time.Now()
	applied, st, err := n.s.applyDelta(ctx, base, next, d)
	n.logTx(ctx, start, applied, st, err)
	return err
}

func (n *Netlink) logTx(ctx context.Context, start time.Time, d nft.Delta, st stats, err error) {
	if err == nil && st.msgs > 0 && n.k.log.Enabled(ctx, slog.LevelDebug) {
		n.k.log.DebugContext(ctx, "nftables transaction", "table", n.s.table,
			"full", d.Replace != nil, "messages", st.msgs, "elements", st.elems, "duration", time.Since(start))
	}
}

// Applied implements Applier.
func (n *Netlink) Applied() *nft.Ruleset { return n.s.applied() }

// Read implements Applier.
func (n *Netlink) Read(ctx context.Context) (*nft.Ruleset, error) { return n.s.read(ctx) }

// Reset implements Applier.
func (n *Netlink) Reset() { n.s.reset() }

// Delete implements Applier.
func (n *Netlink) Delete(ctx context.Context) error { return n.s.delete(ctx) }

// conn returns a google/nftables connection whose netlink sockets have
// large buffers and give up when ctx ends; stop must be called after use.
func (k *kernel) conn(ctx context.Context, lasting bool) (c *nftables.Conn, stop func(), err error) {
	var current atomic.Pointer[netlink.Conn]
	setup := func(nc *netlink.Conn) error {
		if err := nc.SetReadBuffer(k.buffer); err != nil {
			return fmt.Errorf("netlink receive buffer: %w", err)
		}
		if err := nc.SetWriteBuffer(k.buffer); err != nil {
			return fmt.Errorf("netlink send buffer: %w", err)
		}
		// Extended acknowledgements say where the kernel found an
		// error. (NETLINK_CAP_ACK would keep error acknowledgements
		// short, but mdlayher/netlink cannot decode them; the buffer is
		// large enough for the echoed messages.)
		if err := nc.SetOption(netlink.ExtendedAcknowledge, true); err != nil {
			return fmt.Errorf("netlink extended ack: %w", err)
		}
		if dl, ok := ctx.Deadline(); ok {
			if err := nc.SetDeadline(dl); err != nil {
				return err
			}
		}
		current.Store(nc)
		return ctx.Err()
	}
	opts := []nftables.ConnOption{nftables.WithSockOptions(setup)}
	if k.ns != 0 {
		opts = append(opts, nftables.WithNetNSFd(k.ns))
	}
	if lasting {
		opts = append(opts, nftables.AsLasting())
	}
	c, err = nftables.New(opts...)
	if err != nil {
		return nil, nil, err
	}
	// A netlink call blocks; cancelling ctx unblocks it through the
	// socket deadline.
	stopAfter := context.AfterFunc(ctx, func() {
		if nc := current.Load(); nc != nil {
			_ = nc.SetDeadline(time.Unix(1, 0))
		}
	})
	stop = func() {
		stopAfter()
		if lasting {
			_ = c.CloseLasting()
		}
	}
	return c, stop, nil
}

// dial opens a raw netlink socket like the ones conn uses.
func (k *kernel) dial() (*netlink.Conn, error) {
	nc, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: k.ns})
	if err != nil {
		return nil, err
	}
	if err := nc.SetReadBuffer(k.buffer); err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

func (k *kernel) commit(ctx context.Context, d nft.Delta, interval func(string) bool) (stats, error) {
	c, stop, err := k.conn(ctx, false)
	if err != nil {
		return stats{}, err
	}
	defer stop()
	e := newEncoder(c, d.Table, interval)
	if err := e.delta(d); err != nil {
		return stats{e.msgs, e.elems}, err
	}
	if err := c.Flush(); err != nil {
		return stats{e.msgs, e.elems}, explain(err)
	}
	return stats{e.msgs, e.elems}, nil
}

func (k *kernel) read(ctx context.Context, table string) (*nft.Ruleset, error) {
	c, stop, err := k.conn(ctx, true)
	if err != nil {
		return nil, err
	}
	defer stop()
	rs, err := readTable(c, k.dial, table)
	if err != nil || rs == nil {
		return nil, err
	}
	return rs.Canonical(), nil
}

func (k *kernel) delete(ctx context.Context, table string) error {
	c, stop, err := k.conn(ctx, false)
	if err != nil {
		return err
	}
	defer stop()
	t := &nftables.Table{Name: table, Family: nftables.TableFamilyINet}
	// Adding first makes the deletion succeed whether or not the table
	// exists.
	c.AddTable(t)
	c.DelTable(t)
	return explain(c.Flush())
}

// explain adds what a few kernel errors mean for a batch.
func explain(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOBUFS):
		return fmt.Errorf("%w (netlink receive buffer overflowed; the kernel may have committed the batch)", err)
	case errors.Is(err, unix.EMSGSIZE):
		return fmt.Errorf("%w (batch larger than the netlink send buffer)", err)
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("%w (programming nftables needs CAP_NET_ADMIN)", err)
	}
	return err
}
