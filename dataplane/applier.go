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
	// table and Applied keeps returning it.
	Apply(ctx context.Context, rs *nft.Ruleset) error
	// Applied returns the last ruleset Apply applied successfully, or nil
	// if there is none. The caller must not modify it.
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
	// commit applies d, computed from old (nil for a full replace), in one
	// transaction. It returns the number of netlink messages and kernel
	// set elements it sent, for logs.
	commit(ctx context.Context, d nft.Delta, next *nft.Ruleset) (stats, error)
	read(ctx context.Context, table string) (*nft.Ruleset, error)
	delete(ctx context.Context, table string) error
}

type stats struct {
	msgs, elems int
}

// syncer holds what Netlink and Fake share: the baseline and the choice
// between an incremental and a full transaction.
type syncer struct {
	table string
	b     backend

	mu       sync.Mutex
	baseline *nft.Ruleset // last ruleset applied; nil before the first
	resync   bool         // the kernel may differ from baseline
}

func (s *syncer) apply(ctx context.Context, rs *nft.Ruleset) (nft.Delta, stats, error) {
	if rs == nil {
		return nft.Delta{}, stats{}, fmt.Errorf("table inet %s: nil ruleset", s.table)
	}
	if rs.TableName() != s.table {
		return nft.Delta{}, stats{}, fmt.Errorf("table inet %s: ruleset is for table %q; this applier touches no other table", s.table, rs.TableName())
	}
	if err := nft.Validate(rs); err != nil {
		return nft.Delta{}, stats{}, fmt.Errorf("table inet %s: invalid ruleset, kernel untouched: %w", s.table, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var d nft.Delta
	if s.baseline == nil || s.resync {
		d = nft.Full(rs)
	} else {
		d = nft.Diff(s.baseline, rs)
	}
	if d.IsEmpty() {
		return d, stats{}, nil
	}
	st, err := s.b.commit(ctx, d, rs)
	if err != nil {
		// The transaction was rejected, so the kernel still has the
		// baseline; but if the error came after the kernel committed
		// (a lost acknowledgement) or from drift, only a full replace
		// is sure to converge.
		s.resync = true
		kind := "incremental update"
		if d.Replace != nil {
			kind = "full replace"
		}
		if st.msgs > 0 {
			kind += fmt.Sprintf(" (%d netlink messages)", st.msgs)
		}
		return d, st, fmt.Errorf("table inet %s: %s failed, previous ruleset kept: %w", s.table, kind, err)
	}
	s.baseline = rs.Clone()
	s.resync = false
	return d, st, nil
}

func (s *syncer) applied() *nft.Ruleset {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseline
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
	s.baseline = nil
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
