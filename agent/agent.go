package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bulkhead/bulkhead/dataplane"
	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
)

// Config configures an Agent.
type Config struct {
	// NodeName is the node whose pods the agent enforces: pods whose
	// spec.nodeName is NodeName. Required.
	NodeName string
	// Source is what Run follows; Sync does without.
	Source  Source
	Applier dataplane.Applier
	// Engine are the engine's options (ipBlock reading, cluster CIDRs).
	Engine eval.Options
	// Table is the table the ruleset is for; "" means "bulkhead". It must
	// be the Applier's.
	Table string
	// IgnoreInvalid applies the valid objects of a state with invalid
	// ones, as the API server (which rejects invalid objects) would;
	// otherwise such a state is refused and the ruleset in force stays.
	IgnoreInvalid bool
	Logger        *slog.Logger
	Metrics       *Metrics // nil: NewMetrics()
	// Now returns the time; time.Now when nil (tests fix it).
	Now func() time.Time
}

// Agent keeps a node's ruleset in step with the cluster.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	metrics  *Metrics
	tracker  *eval.Tracker
	compiler *compile.Compiler
	// dirty is set when the engine may hold changes that are not applied
	// (a failed sync): the next update rebuilds from its snapshot.
	dirty  bool
	last   *compile.Result // last applied
	snap   *model.Snapshot // state of last
	synced chan struct{}   // closed after the first successful sync
	// local holds the node's pods by ID, the engine's own endpoints:
	// rebuilt from the engine with it, and patched from each Delta
	// (listing the engine's endpoints would sort all of them).
	local map[string]*model.Endpoint
}

// New returns an agent for cfg; Run starts it.
func New(cfg Config) (*Agent, error) {
	if cfg.NodeName == "" {
		return nil, errors.New("agent: no node name")
	}
	if cfg.Applier == nil {
		return nil, errors.New("agent: no applier")
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, metrics: cfg.Metrics, synced: make(chan struct{})}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.metrics == nil {
		a.metrics = NewMetrics()
	}
	if a.cfg.Now == nil {
		a.cfg.Now = time.Now
	}
	a.compiler = compile.NewCompiler(compile.Options{Table: cfg.Table})
	return a, nil
}

// Metrics returns the agent's metrics.
func (a *Agent) Metrics() *Metrics { return a.metrics }

// Synced is closed once the agent applied its first ruleset.
func (a *Agent) Synced() <-chan struct{} { return a.synced }

// Run follows the source until ctx ends. It returns nil then, leaving the
// ruleset in force: stopping the agent never opens the node.
func (a *Agent) Run(ctx context.Context) error {
	if a.cfg.Source == nil {
		return errors.New("agent: no source")
	}
	a.log.Info("agent starting", "node", a.cfg.NodeName, "table", (&nft.Ruleset{Table: a.cfg.Table}).TableName())
	err := a.cfg.Source.Run(ctx, a.Sync)
	a.log.Info("agent stopping; the ruleset stays in force", "node", a.cfg.NodeName)
	return err
}

// Sync brings the kernel in line with one update. It is the Source's
// apply function; errors mean the update is not in force and should be
// retried, and are also logged and counted.
func (a *Agent) Sync(ctx context.Context, u Update) error {
	start := a.cfg.Now()
	if u.Err != nil {
		a.fail(StageSource, "cannot read the cluster state; keeping the ruleset in force", u.Err)
		return nil // retried when the source changes
	}
	if n := a.invalid(u.Snapshot); n > 0 {
		a.fail(StageSource, "invalid objects; keeping the ruleset in force (fix them, or run with --ignore-invalid)",
			fmt.Errorf("%d invalid object field(s)", n))
		return nil
	}
	if u.Snapshot == a.snap && !a.dirty && a.last != nil {
		// The same state again: only check the kernel.
		return a.check(ctx, start)
	}
	conns := a.update(u)
	e := a.tracker.Engine()
	res, err := a.compiler.Compile(e, a.localPods())
	if err != nil {
		a.dirty = true
		a.fail(StageCompile, "cannot compile the ruleset; keeping the one in force", err)
		return err
	}
	if u.Resync {
		if err := a.checkDrift(ctx); err != nil {
			a.dirty = true
			return err
		}
	}
	a.log.Debug("applying ruleset", "chains", res.Stats.Chains, "rules", res.Stats.Rules, "elements", res.Stats.Elements(),
		"compiled_in", a.cfg.Now().Sub(start).Round(10*time.Microsecond))
	// The compiler's change from the ruleset before, which the applier
	// uses if that is the one in force (else it diffs).
	if err := a.cfg.Applier.ApplyDelta(ctx, res.Base, res.Ruleset, res.Delta); err != nil {
		a.dirty = true
		if ctx.Err() != nil {
			return ctx.Err() // stopping: not a failure
		}
		a.fail(StageApply, "cannot apply the ruleset; the previous one stays in force", err)
		return err
	}
	a.dirty = false
	prev := a.last
	a.last, a.snap = res, u.Snapshot
	took := a.cfg.Now().Sub(start)
	a.logChanges(prev, res, u, conns, took)
	a.succeeded(res.Stats, took)
	return nil
}

// invalid logs the error problems of snap and returns their number, or 0
// with IgnoreInvalid (then they are warnings).
func (a *Agent) invalid(snap *model.Snapshot) int {
	if snap == nil {
		return 0
	}
	n := 0
	for _, p := range snap.Problems {
		if p.Severity != model.SeverityError {
			continue
		}
		if a.cfg.IgnoreInvalid {
			a.log.Warn("ignoring invalid object", "problem", p.Error())
			continue
		}
		a.log.Error("invalid object", "problem", p.Error())
		n++
	}
	return n
}

// update brings the engine and the compiler's cache to u's state,
// incrementally when u says what changed, and returns how many
// connections changed (-1 when rebuilt).
func (a *Agent) update(u Update) int {
	if a.tracker == nil || a.dirty || u.Delta == nil {
		a.tracker = eval.NewTracker(u.Snapshot, a.cfg.Engine)
		a.compiler.Reset()
		a.local = map[string]*model.Endpoint{}
		for _, ep := range localPods(a.tracker.Engine(), a.cfg.NodeName) {
			a.local[ep.ID()] = ep
		}
		return -1
	}
	d := u.Delta
	for _, c := range d.Endpoints {
		if c.Old != nil {
			delete(a.local, c.Old.ID())
		}
		if a.isLocal(c.New) {
			a.local[c.New.ID()] = c.New
		}
	}
	var changes []eval.Change
	for _, c := range d.Namespaces {
		changes = append(changes, change(c.Old, c.New, func(ns *model.Namespace) eval.Change { return eval.Change{Namespace: ns} }))
	}
	for _, c := range d.Nodes {
		changes = append(changes, change(c.Old, c.New, func(n *model.Node) eval.Change { return eval.Change{Node: n} }))
	}
	for _, c := range d.Endpoints {
		changes = append(changes, change(c.Old, c.New, func(ep *model.Endpoint) eval.Change { return eval.Change{Endpoint: ep} }))
	}
	for _, c := range d.Policies {
		changes = append(changes, change(c.Old, c.New, func(p *model.Policy) eval.Change { return eval.Change{Policy: p} }))
	}
	switch {
	case len(d.Namespaces) > 0:
		a.compiler.Reset() // namespace labels feed peer sets
	default:
		if len(d.Nodes) > 0 {
			a.compiler.NodesChanged()
		}
		eps := make([]compile.EndpointChange, len(d.Endpoints))
		for i, c := range d.Endpoints {
			eps[i] = compile.EndpointChange{Old: c.Old, New: c.New}
		}
		a.compiler.EndpointsChanged(eps, func(ns string) map[string]string {
			if n := u.Snapshot.Namespace(ns); n != nil {
				return n.Labels
			}
			return nil
		})
	}
	return len(a.tracker.Apply(changes...))
}

// change turns a before/after pair into an eval.Change.
func change[T any](old, new *T, mk func(*T) eval.Change) eval.Change {
	if new != nil {
		c := mk(new)
		c.Op = eval.OpUpsert
		return c
	}
	c := mk(old)
	c.Op = eval.OpDelete
	return c
}

// localPods returns e's pods placed on node. Workloads, which stand for
// pods not yet placed, and bare pods without spec.nodeName are on no
// node.
func localPods(e *eval.Engine, node string) []*model.Endpoint {
	var out []*model.Endpoint
	for _, ep := range e.Endpoints() {
		if ep != nil && ep.Kind == model.EndpointPod && ep.NodeName == node {
			out = append(out, ep)
		}
	}
	return out
}

// isLocal reports whether ep is a pod on the agent's node.
func (a *Agent) isLocal(ep *model.Endpoint) bool {
	return ep != nil && ep.Kind == model.EndpointPod && ep.NodeName == a.cfg.NodeName
}

// localPods returns the node's pods, in no order (the compiler needs
// none).
func (a *Agent) localPods() []*model.Endpoint {
	out := make([]*model.Endpoint, 0, len(a.local))
	for _, ep := range a.local {
		out = append(out, ep)
	}
	return out
}

// check confirms that the kernel still holds the last ruleset, replacing
// it if not.
func (a *Agent) check(ctx context.Context, start time.Time) error {
	if err := a.checkDrift(ctx); err != nil {
		return err
	}
	// Nothing to change unless checkDrift found the table changed: then
	// the applier replaces it.
	rs := a.last.Ruleset
	if err := a.cfg.Applier.ApplyDelta(ctx, rs, rs, nft.Delta{Table: rs.TableName()}); err != nil {
		a.fail(StageApply, "cannot re-apply the ruleset", err)
		return err
	}
	a.succeeded(a.last.Stats, a.cfg.Now().Sub(start))
	return nil
}

// checkDrift compares the kernel's table with the last ruleset applied
// and, if they differ (someone edited or deleted the table), makes the
// next Apply replace the table whole. It compares with the compiler's
// ruleset, not with what the applier kept, so that a change the applier
// made from a delta is checked against what it stands for too.
func (a *Agent) checkDrift(ctx context.Context) error {
	if a.last == nil || a.cfg.Applier.Applied() == nil {
		return nil
	}
	applied := a.last.Ruleset
	got, err := a.cfg.Applier.Read(ctx)
	if err != nil {
		a.fail(StageCheck, "cannot read the table back; replacing it", err)
		a.cfg.Applier.Reset()
		return nil
	}
	if got == nil || !nft.Diff(got, applied).IsEmpty() {
		a.metrics.drift.Inc()
		a.log.Warn("the kernel's table differs from the applied ruleset (edited or deleted behind the agent's back); replacing it",
			"table", applied.TableName(), "deleted", got == nil)
		a.cfg.Applier.Reset()
	}
	return nil
}

func (a *Agent) fail(stage, msg string, err error) {
	a.metrics.errors.WithLabelValues(stage).Inc()
	a.log.Error(msg, "stage", stage, "err", err)
}

func (a *Agent) succeeded(st compile.Stats, took time.Duration) {
	a.metrics.ruleset(st)
	a.metrics.syncs.Inc()
	a.metrics.duration.Observe(took.Seconds())
	a.metrics.lastSuccess.Set(float64(a.cfg.Now().UnixNano()) / 1e9)
	select {
	case <-a.synced:
	default:
		close(a.synced)
	}
}
