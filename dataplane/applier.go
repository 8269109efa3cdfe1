package dataplane

import (
	"context"
	"fmt"
	"sync"

	"github.com/bulkhead/bulkhead/nft"
)

// Applier makes the kernel's bulkhead table equal to a ruleset.
type Applier interface {
	// Apply makes the table equal rs in one atomic transaction: packets
	// see the old table or the new one, never a mix. rs must be for the
	// applier's table and pass nft.Validate; otherwise Apply fails without
	// touching the kernel. On any failure the kernel keeps the previous
	// table and Applied keeps returning it. Apply validates and diffs the
	// whole ruleset: its cost grows with the ruleset's size.
	Apply(ctx context.Context, rs *nft.Ruleset) error
	// ApplyDelta makes the table equal next given d, the change from base
	// to next (nft.Diff(base, next), or what a compile.Compiler reports),
	// in time proportional to d rather than to the ruleset. base must be
	// the ruleset of the last successful Apply or ApplyDelta: then d is
	// checked against the table the applier keeps (what the kernel
	// holds), committed in one transaction, and patched into that table.
	// Otherwise (base is another ruleset, or there was a failure, a Reset,
	// no Apply yet) d is ignored and ApplyDelta does what Apply(next)
	// does. Failures leave the kernel and Applied as they were, as for
	// Apply.
	//
	// The applier does not compare d with next: if d is not the change
	// from base to next, the table becomes base with d applied (which
	// Applied returns). next must not be modified afterwards, since it
	// may be the base of the next call.
	ApplyDelta(ctx context.Context, base, next *nft.Ruleset, d nft.Delta) error
	// Applied returns the last ruleset applied successfully, as the
	// applier keeps it (in no particular order of chains, sets and maps),
	// or nil if there is none. It is never modified afterwards; the
	// caller must not modify it either.
	Applied() *nft.Ruleset
	// Read returns the table as it is now, sorted as Render sorts it, or
	// nil if it does not exist. It fails if the table holds anything
	// bulkhead does not write.
	Read(ctx context.Context) (*nft.Ruleset, error)
	// Reset forgets the baseline, so that the next Apply replaces the
	// whole table; an agent that finds the table changed behind its back
	// (Read differs from Applied) calls it to converge.
	Reset()
	// Delete removes the table, if it exists, and forgets the baseline.
	Delete(ctx context.Context) error
}

// backend makes one transaction: the kernel, or the fake's memory.
type backend interface {
	// commit applies d in one transaction. interval tells the interval
	// flag of the table's sets and maps that d does not add (for rules
	// that look them up). It returns the number of netlink messages and
	// kernel set elements it sent, for logs.
	commit(ctx context.Context, d nft.Delta, interval func(set string) bool) (stats, error)
	read(ctx context.Context, table string) (*nft.Ruleset, error)
	delete(ctx context.Context, table string) error
}

type stats struct {
	msgs, elems int
}

// syncer holds what Netlink and Fake share: the table as last committed
// and the choice between an incremental and a full transaction.
type syncer struct {
	table string
	b     backend

	mu    sync.Mutex
	state *nft.State   // the table as last committed; nil before the first
	last  *nft.Ruleset // the caller's ruleset that state equals, for ApplyDelta
	// resync is set when the kernel may differ from state.
	resync bool
}

func (s *syncer) check(rs *nft.Ruleset) error {
	if rs == nil {
		return fmt.Errorf("table inet %s: nil ruleset", s.table)
	}
	if rs.TableName() != s.table {
		return fmt.Errorf("table inet %s: ruleset is for table %q; this applier touches no other table", s.table, rs.TableName())
	}
	return nil
}

func (s *syncer) apply(ctx context.Context, rs *nft.Ruleset) (nft.Delta, stats, error) {
	if err := s.check(rs); err != nil {
		return nft.Delta{}, stats{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applyLocked(ctx, rs)
}

func (s *syncer) applyLocked(ctx context.Context, rs *nft.Ruleset) (nft.Delta, stats, error) {
	if s.state == nil || s.resync {
		return s.replaceLocked(ctx, rs)
	}
	if err := nft.Validate(rs); err != nil {
		return nft.Delta{}, stats{}, fmt.Errorf("table inet %s: invalid ruleset, kernel untouched: %w", s.table, err)
	}
	return s.updateLocked(ctx, nft.Diff(s.state.Ruleset(), rs), rs)
}

func (s *syncer) applyDelta(ctx context.Context, base, next *nft.Ruleset, d nft.Delta) (nft.Delta, stats, error) {
	if err := s.check(next); err != nil {
		return nft.Delta{}, stats{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == nil || s.resync || base == nil || base != s.last || d.Replace != nil {
		return s.applyLocked(ctx, next)
	}
	if d.Table != s.table {
		return d, stats{}, fmt.Errorf("table inet %s: delta is for table %q; this applier touches no other table", s.table, d.Table)
	}
	return s.updateLocked(ctx, d, next)
}

// replaceLocked replaces the whole table with rs.
func (s *syncer) replaceLocked(ctx context.Context, rs *nft.Ruleset) (nft.Delta, stats, error) {
	state, err := nft.NewState(rs)
	if err != nil {
		return nft.Delta{}, stats{}, fmt.Errorf("table inet %s: invalid ruleset, kernel untouched: %w", s.table, err)
	}
	d := nft.Full(rs)
	st, err := s.b.commit(ctx, d, state.Interval)
	if err != nil {
		s.resync = true
		return d, st, s.failed(d, st, err)
	}
	s.state, s.last, s.resync = state, rs, false
	return d, st, nil
}

// updateLocked checks d against the table, commits it and patches the
// table; next is the caller's ruleset it gives.
func (s *syncer) updateLocked(ctx context.Context, d nft.Delta, next *nft.Ruleset) (nft.Delta, stats, error) {
	if d.IsEmpty() {
		s.last = next
		return d, stats{}, nil
	}
	var st stats
	committed := false
	err := s.state.Update(d, func() error {
		committed = true
		var err error
		st, err = s.b.commit(ctx, d, s.state.Interval)
		return err
	})
	switch {
	case err != nil && !committed:
		return d, st, fmt.Errorf("table inet %s: invalid change, kernel untouched: %w", s.table, err)
	case err != nil:
		// The transaction was rejected, so the kernel still has the
		// table; but if the error came after the kernel committed (a
		// lost acknowledgement) or from drift, only a full replace is
		// sure to converge.
		s.resync = true
		return d, st, s.failed(d, st, err)
	}
	s.last = next
	return d, st, nil
}

func (s *syncer) failed(d nft.Delta, st stats, err error) error {
	kind := "incremental update"
	if d.Replace != nil {
		kind = "full replace"
	}
	if st.msgs > 0 {
		kind += fmt.Sprintf(" (%d netlink messages)", st.msgs)
	}
	return fmt.Errorf("table inet %s: %s failed, previous ruleset kept: %w", s.table, kind, err)
}

func (s *syncer) applied() *nft.Ruleset {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == nil {
		return nil
	}
	return s.state.Ruleset()
}

func (s *syncer) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resync = true
}

func (s *syncer) delete(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.b.delete(ctx, s.table); err != nil {
		s.resync = true
		return fmt.Errorf("table inet %s: delete: %w", s.table, err)
	}
	s.state, s.last = nil, nil
	s.resync = false
	return nil
}

func (s *syncer) read(ctx context.Context) (*nft.Ruleset, error) {
	rs, err := s.b.read(ctx, s.table)
	if err != nil {
		return nil, fmt.Errorf("table inet %s: read: %w", s.table, err)
	}
	return rs, nil
}
