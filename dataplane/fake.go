package dataplane

import (
	"context"
	"errors"
	"sync"

	"github.com/bulkhead/bulkhead/nft"
)

// Fake is an Applier that keeps the table in memory, for unit tests of the
// agent. It applies the same deltas as Netlink through nft.Patch, so a
// delta the kernel would reject (an element added twice, a jump to a
// missing chain) fails here too, and it can be told to fail.
type Fake struct {
	s syncer
	f *fakeKernel
}

type fakeKernel struct {
	mu       sync.Mutex
	table    *nft.Ruleset // nil: no table
	failNext []error
	failWhen func(nft.Delta) error
	deltas   []nft.Delta
	commits  int
}

// NewFake returns a Fake owning table (nft.DefaultTable if "").
func NewFake(table string) *Fake {
	if table == "" {
		table = nft.DefaultTable
	}
	k := &fakeKernel{}
	return &Fake{s: syncer{table: table, b: k}, f: k}
}

var _ Applier = (*Fake)(nil)

// Apply implements Applier.
func (f *Fake) Apply(ctx context.Context, rs *nft.Ruleset) error {
	_, _, err := f.s.apply(ctx, rs)
	return err
}

// ApplyDelta implements Applier.
func (f *Fake) ApplyDelta(ctx context.Context, base, next *nft.Ruleset, d nft.Delta) error {
	_, _, err := f.s.applyDelta(ctx, base, next, d)
	return err
}

// Applied implements Applier.
func (f *Fake) Applied() *nft.Ruleset { return f.s.applied() }

// Read implements Applier.
func (f *Fake) Read(ctx context.Context) (*nft.Ruleset, error) { return f.s.read(ctx) }

// Reset implements Applier.
func (f *Fake) Reset() { f.s.reset() }

// Delete implements Applier.
func (f *Fake) Delete(ctx context.Context) error { return f.s.delete(ctx) }

// FailNext makes the next transaction (Apply or Delete) fail with err
// without changing the table; calls queue up.
func (f *Fake) FailNext(err error) {
	f.f.mu.Lock()
	defer f.f.mu.Unlock()
	f.f.failNext = append(f.f.failNext, err)
}

// FailWhen makes every transaction for which fn returns an error fail with
// it, until FailWhen(nil).
func (f *Fake) FailWhen(fn func(nft.Delta) error) {
	f.f.mu.Lock()
	defer f.f.mu.Unlock()
	f.f.failWhen = fn
}

// Deltas returns the deltas committed so far, in order.
func (f *Fake) Deltas() []nft.Delta {
	f.f.mu.Lock()
	defer f.f.mu.Unlock()
	return append([]nft.Delta(nil), f.f.deltas...)
}

// Commits returns how many transactions were attempted, failed or not.
func (f *Fake) Commits() int {
	f.f.mu.Lock()
	defer f.f.mu.Unlock()
	return f.f.commits
}

// Dump returns the table as nft text (nft.Render), or "" if there is none.
func (f *Fake) Dump() string {
	f.f.mu.Lock()
	defer f.f.mu.Unlock()
	if f.f.table == nil {
		return ""
	}
	return nft.Render(f.f.table)
}

// Tamper changes the in-memory table behind the applier's back, as another
// program editing the kernel's table would; fn gets nil if there is no
// table and returns the new table (nil deletes it).
func (f *Fake) Tamper(fn func(*nft.Ruleset) *nft.Ruleset) {
	f.f.mu.Lock()
	defer f.f.mu.Unlock()
	f.f.table = fn(f.f.table.Clone())
}

func (k *fakeKernel) fail(d nft.Delta) error {
	k.commits++
	if len(k.failNext) > 0 {
		err := k.failNext[0]
		k.failNext = k.failNext[1:]
		return err
	}
	if k.failWhen != nil {
		return k.failWhen(d)
	}
	return nil
}

func (k *fakeKernel) commit(_ context.Context, d nft.Delta, _ func(string) bool) (stats, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.fail(d); err != nil {
		return stats{}, err
	}
	next, err := nft.Patch(k.table, d)
	if err != nil {
		return stats{}, err
	}
	k.table = next
	k.deltas = append(k.deltas, d)
	return stats{msgs: 1}, nil
}

func (k *fakeKernel) read(_ context.Context, table string) (*nft.Ruleset, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.table == nil {
		return nil, nil
	}
	if k.table.TableName() != table {
		return nil, errors.New("fake holds another table")
	}
	return k.table.Canonical(), nil
}

func (k *fakeKernel) delete(_ context.Context, _ string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.fail(nft.Delta{}); err != nil {
		return err
	}
	k.table = nil
	return nil
}
