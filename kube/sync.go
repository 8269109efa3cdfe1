package kube

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/bulkhead/bulkhead/model"
)

// SyncOptions configure a Syncer.
type SyncOptions struct {
	Options
	// Resync is how often the consumer is handed the current snapshot
	// again when nothing changed, so that it re-asserts its state (the
	// agent re-applies its ruleset, repairing drift). Five minutes when
	// zero; never when negative.
	Resync time.Duration
	// MinBackoff and MaxBackoff bound the exponential backoff (with 20%
	// jitter) between retries of a failed start (server unreachable,
	// access refused) and of a consumer call that failed. 1 s and 2 min
	// when zero.
	MinBackoff, MaxBackoff time.Duration
}

func (o SyncOptions) resync() time.Duration {
	if o.Resync == 0 {
		return 5 * time.Minute
	}
	return o.Resync
}

func (o SyncOptions) backoff() (lo, hi time.Duration) {
	lo, hi = o.MinBackoff, o.MaxBackoff
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = 2 * time.Minute
	}
	return lo, max(lo, hi)
}

// Syncer keeps a long-running consumer, such as the node agent, in step
// with a cluster: it calls the consumer with the first complete snapshot,
// after every change, and every Resync period, and retries failures with
// exponential backoff. It never hands out a partial or empty model
// because the API server went away: while watches fail, the model stays
// the last good state (Health says since when), and resyncs keep handing
// it out, so the consumer keeps enforcing it.
type Syncer struct {
	cluster *Cluster
	opts    SyncOptions

	mu       sync.Mutex
	watcher  *Watcher
	pending  *Update
	last     *model.Snapshot
	lastErr  error
	attempts int
	wake     chan struct{}
}

// Syncer returns a Syncer for the cluster; Run starts it.
func (c *Cluster) Syncer(opts SyncOptions) *Syncer {
	return &Syncer{cluster: c, opts: opts, wake: make(chan struct{}, 1)}
}

// SyncStatus is a Syncer's state.
type SyncStatus struct {
	Health
	// Applied is the last snapshot the consumer accepted, nil before the
	// first.
	Applied *model.Snapshot
	// ApplyError is the consumer's last error, nil once a call succeeds.
	ApplyError error
	// StartFailures counts the failed starts since the last success.
	StartFailures int
}

// Status returns the Syncer's state.
func (s *Syncer) Status() SyncStatus {
	s.mu.Lock()
	w := s.watcher
	st := SyncStatus{Applied: s.last, ApplyError: s.lastErr, StartFailures: s.attempts}
	s.mu.Unlock()
	if w != nil {
		st.Health = w.Health()
	}
	return st
}

// Run syncs until ctx ends, and then returns nil. apply is called from
// one goroutine, never concurrently; when it fails, the Syncer calls it
// again after a backoff with the latest snapshot and the events not yet
// applied (Update.Resync set).
func (s *Syncer) Run(ctx context.Context, apply func(context.Context, Update) error) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { s.applyLoop(ctx, apply) })

	lo, hi := s.opts.backoff()
	delay := lo
	for ctx.Err() == nil {
		w := s.cluster.Watcher(s.opts.Options)
		s.mu.Lock()
		s.watcher = w
		s.mu.Unlock()
		err := w.Run(ctx, s.offer)
		if ctx.Err() != nil {
			return nil
		}
		if kc := (*KindsChangedError)(nil); errors.As(err, &kc) {
			// Not a failure: watch the new kinds at once. The new
			// Watcher's first snapshot reaches the consumer as Initial.
			s.opts.log().Info("watching the cluster again", "cluster", s.cluster.Name(), "reason", err)
			delay = lo
			continue
		}
		// Run only returns early when it could not start: the previous
		// model, if any, stays in force while it retries.
		s.mu.Lock()
		s.attempts++
		n := s.attempts
		s.mu.Unlock()
		s.opts.log().Warn("cannot watch the cluster; retrying", "cluster", s.cluster.Name(), "attempt", n, "in", delay, "err", err)
		if !sleep(ctx, jitter(delay)) {
			return nil
		}
		delay = min(2*delay, hi)
	}
	return nil
}

// offer merges an update into the pending one and wakes the applier. It
// never blocks the watcher.
func (s *Syncer) offer(_ context.Context, u Update) error {
	s.mu.Lock()
	s.attempts = 0
	s.pending = merge(s.pending, u)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

func merge(p *Update, u Update) *Update {
	if p == nil {
		return &u
	}
	m := *p
	m.Snapshot, m.Modelled = u.Snapshot, u.Modelled
	m.Initial = m.Initial || u.Initial
	m.Events = append(append([]Event(nil), p.Events...), u.Events...)
	m.Delta = Delta{
		Endpoints:  append(append([]EndpointChange(nil), p.Delta.Endpoints...), u.Delta.Endpoints...),
		Namespaces: append(append([]NamespaceChange(nil), p.Delta.Namespaces...), u.Delta.Namespaces...),
		Nodes:      append(append([]NodeChange(nil), p.Delta.Nodes...), u.Delta.Nodes...),
		Policies:   append(append([]PolicyChange(nil), p.Delta.Policies...), u.Delta.Policies...),
	}
	return &m
}

func (s *Syncer) applyLoop(ctx context.Context, apply func(context.Context, Update) error) {
	lo, hi := s.opts.backoff()
	delay := lo
	var retry <-chan time.Time // set while backing off after a failure
	var resync <-chan time.Time
	if d := s.opts.resync(); d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		resync = t.C
	}
	for {
		isResync := false
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-retry:
			retry = nil
		case <-resync:
			isResync = true
		}
		if retry != nil {
			continue // backing off: the pending update waits for the retry
		}
		s.mu.Lock()
		u := s.pending
		s.pending = nil
		if u == nil && isResync && s.last != nil {
			u = &Update{Snapshot: s.last, Resync: true}
		}
		s.mu.Unlock()
		if u == nil {
			continue
		}
		err := apply(ctx, *u)
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		if err != nil {
			s.lastErr = err
			u.Resync = true
			if s.pending != nil {
				u = merge(u, *s.pending) // keeps the newer snapshot
			}
			s.pending = u
			s.mu.Unlock()
			s.opts.log().Warn("applying the cluster state failed; retrying", "in", delay, "err", err)
			retry = time.After(jitter(delay))
			delay = min(2*delay, hi)
			continue
		}
		s.last, s.lastErr = u.Snapshot, nil
		s.mu.Unlock()
		delay = lo
	}
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
