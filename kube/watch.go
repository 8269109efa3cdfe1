package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// Update is what a Watcher hands its consumer: the first complete
// snapshot (Initial), then one per batch of events that changed the
// model.
type Update struct {
	Snapshot *model.Snapshot
	Initial  bool
	// Resync is set by a Syncer when it hands the current snapshot again
	// (periodically, or to retry a failed consumer); Events and Delta are
	// then those not yet handed successfully.
	Resync bool
	// Events are the object changes of the batch, in arrival order, and
	// Delta the model items they changed (empty for Initial).
	Events []Event
	Delta  Delta
	// Received is when the watch delivered the batch's first event;
	// Modelled is when the snapshot was ready. For latency figures.
	Received, Modelled time.Time
}

// Health is a Watcher's view of the API server.
type Health struct {
	// Synced is true once the first complete snapshot was handed out.
	Synced bool
	// Errors are the current watch failures by resource; empty while
	// every watch is live. While it is not empty the snapshot is the last
	// good state, and may be stale.
	Errors map[string]error
	// Since is when the oldest current failure started.
	Since time.Time
}

// OK reports whether every watch is live.
func (h Health) OK() bool { return h.Synced && len(h.Errors) == 0 }

// Watcher follows a cluster with informers on every modelled kind and
// keeps its model with a State.
type Watcher struct {
	cluster *Cluster
	opts    Options

	mu     sync.Mutex
	queue  []rawEvent
	signal chan struct{}
	fatal  error
	health Health
	// errRV is the informer's resource version when a watch failed; the
	// failure is over when it moves (the reflector listed again).
	errRV   map[string]string
	errAt   map[string]time.Time
	synced  bool
	informs map[string]cache.SharedIndexInformer

	served, missing []string
	state           *State
	// restart carries a *KindsChangedError from the probe to Run.
	restart chan error
}

// KindsChangedError ends a Watcher's Run when the network-policy-api kinds
// the server serves change (a CRD installed, removed or upgraded): the
// informers watch the kinds discovered at the start, so a policy of a kind
// installed later would otherwise go unseen, and for the agent,
// unenforced. A Syncer starts a new Watcher at once; other callers should
// too.
type KindsChangedError struct {
	Before, After []string
}

func (e *KindsChangedError) Error() string {
	return "the cluster's policy kinds changed (" + e.Change() + "); the watch must start again"
}

// Change says what changed: "served A, B -> A, B, C".
func (e *KindsChangedError) Change() string {
	return fmt.Sprintf("served %s -> %s", orNone(e.Before), orNone(e.After))
}

func orNone(kinds []string) string {
	if len(kinds) == 0 {
		return "none"
	}
	return strings.Join(kinds, ", ")
}

type rawEvent struct {
	r   *resource
	del bool
	obj any
	at  time.Time
}

// Watcher returns a Watcher for the cluster; Run starts it.
func (c *Cluster) Watcher(opts Options) *Watcher {
	return &Watcher{cluster: c, opts: opts, signal: make(chan struct{}, 1), restart: make(chan error, 1),
		errRV: map[string]string{}, errAt: map[string]time.Time{}, informs: map[string]cache.SharedIndexInformer{}}
}

// Served and Missing are the network-policy-api kinds the server serves
// and does not (see Result), known once Run has synced.
func (w *Watcher) Served() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.served
}

// Missing: see Served.
func (w *Watcher) Missing() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.missing
}

// Health returns the watcher's view of the API server.
func (w *Watcher) Health() Health {
	w.mu.Lock()
	defer w.mu.Unlock()
	h := Health{Synced: w.synced, Errors: map[string]error{}}
	for res, err := range w.health.Errors {
		if inf := w.informs[res]; inf != nil && inf.LastSyncResourceVersion() != w.errRV[res] {
			// Listed again since: the failure is over.
			delete(w.health.Errors, res)
			continue
		}
		h.Errors[res] = err
		if h.Since.IsZero() || w.errAt[res].Before(h.Since) {
			h.Since = w.errAt[res]
		}
	}
	return h
}

// Objects returns the objects of the current model. Only call it from
// the handler Run calls, which holds the State.
func (w *Watcher) Objects() []manifest.Object { return w.state.Objects() }

// Run discovers the kinds to watch, checks that it may list them, starts
// informers and waits for them to sync, then calls handle with the first
// complete snapshot and, after that, with every batch of events that
// changes the model, until ctx ends (Run then returns nil) or handle
// returns an error (which Run returns).
//
// Events are handled in order by one goroutine; while handle runs, new
// events queue up and form the next batch, so a slow consumer sees fewer,
// larger batches rather than falling behind.
//
// Before the first snapshot, a refused request (RBAC, credentials) fails
// Run with an *AccessError. After it, watch failures never end Run: the
// informers retry with backoff, the model stays the last good state, and
// Health reports the failures until the watches are back.
func (w *Watcher) Run(ctx context.Context, handle func(context.Context, Update) error) error {
	cl, err := newClients(w.cluster)
	if err != nil {
		return err
	}
	rs, served, missing, err := resources(ctx, cl.disc, cl.cluster)
	if err != nil {
		return err
	}
	rs = w.opts.filter(rs)
	if err := preflight(ctx, cl, rs); err != nil {
		return err
	}
	w.mu.Lock()
	w.served, w.missing = served, missing
	w.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	factory := informers.NewSharedInformerFactory(cl.typed, 0)
	dynFactory := dynamicinformer.NewDynamicSharedInformerFactory(cl.dynamic, 0)
	var regs []cache.ResourceEventHandlerRegistration
	sizes := map[string]func() int{}
	for _, r := range rs {
		var inf cache.SharedIndexInformer
		if r.typed() {
			inf = r.informer(factory)
		} else {
			inf = dynFactory.ForResource(r.gvr()).Informer()
		}
		if err := inf.SetTransform(transform(r)); err != nil {
			return err
		}
		if err := inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			w.watchError(r, err)
		}); err != nil {
			return err
		}
		reg, err := inf.AddEventHandler(w.handler(r))
		if err != nil {
			return err
		}
		regs = append(regs, reg)
		w.mu.Lock()
		w.informs[r.name()] = inf
		w.mu.Unlock()
		sizes[r.gvk.Kind] = func() int { return len(inf.GetStore().ListKeys()) }
	}
	factory.Start(ctx.Done())
	dynFactory.Start(ctx.Done())
	defer func() {
		cancel()
		factory.Shutdown()
		dynFactory.Shutdown()
	}()

	start := time.Now()
	stop := startProgress(w.opts, "syncing cluster", func() string {
		var parts []string
		for _, r := range rs {
			if n := sizes[r.gvk.Kind](); n > 0 {
				parts = append(parts, thousands(n)+" "+plural(r.gvk.Kind, n))
			}
		}
		return strings.Join(parts, ", ")
	})
	err = w.waitSynced(ctx, regs)
	stop(err == nil)
	if err != nil {
		return err
	}

	// The initial list arrived as events; fold them into one Reset.
	w.mu.Lock()
	queued := w.queue
	w.queue = nil
	w.mu.Unlock()
	latest := map[key]rawEvent{}
	var order []key
	for _, ev := range queued {
		k := eventKey(ev)
		if _, ok := latest[k]; !ok {
			order = append(order, k)
		}
		latest[k] = ev
	}
	var objs []Object
	for _, k := range order {
		if ev := latest[k]; !ev.del {
			objs = append(objs, toObject(ev.r, ev.obj.(k8sruntime.Object)))
		}
	}
	w.state = NewState()
	snap := w.state.Reset(objs)
	w.mu.Lock()
	w.synced = true
	w.mu.Unlock()
	w.opts.log().Debug("synced", "cluster", w.cluster.Name(), "objects", len(objs), "took", time.Since(start))
	if err := handle(ctx, Update{Snapshot: snap, Initial: true, Received: start, Modelled: time.Now()}); err != nil {
		return err
	}
	if every := cmp.Or(w.opts.ProbeEvery, 10*time.Second); every > 0 {
		go w.probe(ctx, cl, every)
	}

	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.restart:
			return err
		case <-w.signal:
		}
		w.mu.Lock()
		batch := w.queue
		w.queue = nil
		w.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		for _, ev := range batch {
			if ev.del {
				w.state.Delete(eventKey(ev).source(), ev.at)
			} else {
				w.state.Set(toObject(ev.r, ev.obj.(k8sruntime.Object)), ev.at)
			}
		}
		if !w.state.Pending() {
			continue
		}
		snap, events, delta := w.state.Snapshot()
		u := Update{Snapshot: snap, Events: events, Delta: delta, Received: batch[0].at, Modelled: time.Now()}
		if err := handle(ctx, u); err != nil {
			return err
		}
	}
}

// probeKey is the Health.Errors key of the server probe.
const probeKey = "API server"

// probe asks the server for its version every period until ctx ends,
// and records whether it answered. When it does, and KindsEvery has
// passed since it last did, it also checks which network-policy-api kinds
// the server serves, and ends Run with a *KindsChangedError when they are
// no longer those the informers watch.
func (w *Watcher) probe(ctx context.Context, cl *clients, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	kindsEvery := cmp.Or(w.opts.KindsEvery, time.Minute)
	kindsAt := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, min(every, 5*time.Second))
		err := cl.typed.Discovery().RESTClient().Get().AbsPath("/version").Do(pctx).Error()
		var served []string
		var kindsErr error
		if err == nil && time.Since(kindsAt) >= kindsEvery {
			kindsAt = time.Now()
			_, served, _, kindsErr = resources(pctx, cl.disc, cl.cluster)
		} else {
			served = w.Served()
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil && kindsErr == nil && !slices.Equal(served, w.Served()) {
			w.opts.log().Info("the cluster's policy kinds changed; watching again", "cluster", w.cluster.Name(),
				"before", strings.Join(w.Served(), ","), "after", strings.Join(served, ","))
			w.restart <- &KindsChangedError{Before: w.Served(), After: served}
			return
		}
		w.mu.Lock()
		if err == nil {
			if _, had := w.health.Errors[probeKey]; had {
				delete(w.health.Errors, probeKey)
				w.opts.log().Info("the API server answers again", "cluster", w.cluster.Name())
			}
		} else {
			if w.health.Errors == nil {
				w.health.Errors = map[string]error{}
			}
			if _, had := w.health.Errors[probeKey]; !had {
				w.errAt[probeKey] = time.Now()
				w.opts.log().Warn("the API server does not answer; keeping the last known state", "cluster", w.cluster.Name(), "err", err)
			}
			w.health.Errors[probeKey] = classify(err, w.cluster.Name(), "get", "/version", "")
		}
		w.mu.Unlock()
	}
}

// preflight lists one object of each resource, so that a missing
// permission fails at once with the resource named, instead of an
// informer retrying forever.
func preflight(ctx context.Context, cl *clients, rs []*resource) error {
	errs := make([]error, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() {
			_, _, _, err := listPage(ctx, cl, r, metav1.ListOptions{Limit: 1})
			errs[i] = classify(err, cl.cluster, "list", r.name(), "")
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (w *Watcher) waitSynced(ctx context.Context, regs []cache.ResourceEventHandlerRegistration) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		w.mu.Lock()
		fatal := w.fatal
		w.mu.Unlock()
		if fatal != nil {
			return fatal
		}
		all := true
		for _, r := range regs {
			if !r.HasSynced() {
				all = false
				break
			}
		}
		if all {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (w *Watcher) handler(r *resource) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.enqueue(rawEvent{r: r, obj: obj, at: time.Now()}) },
		UpdateFunc: func(_, obj any) { w.enqueue(rawEvent{r: r, obj: obj, at: time.Now()}) },
		DeleteFunc: func(obj any) { w.enqueue(rawEvent{r: r, obj: obj, del: true, at: time.Now()}) },
	}
}

func (w *Watcher) enqueue(ev rawEvent) {
	w.mu.Lock()
	w.queue = append(w.queue, ev)
	w.mu.Unlock()
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

func (w *Watcher) watchError(r *resource, err error) {
	if errors.Is(err, io.EOF) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		return // a watch closing or being resumed from a newer version is routine
	}
	err = classify(err, w.cluster.Name(), "watch", r.name(), "")
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.synced && IsAccessError(err) && w.fatal == nil {
		w.fatal = err
	}
	if w.health.Errors == nil {
		w.health.Errors = map[string]error{}
	}
	res := r.name()
	if _, had := w.health.Errors[res]; !had {
		w.errAt[res] = time.Now()
		w.opts.log().Warn("watch failed; keeping the last known state while it retries", "resource", res, "err", err)
	}
	w.health.Errors[res] = err
	if inf := w.informs[res]; inf != nil {
		w.errRV[res] = inf.LastSyncResourceVersion()
	}
}

// eventKey returns the key of an event's object, tombstones included.
func eventKey(ev rawEvent) key {
	obj := ev.obj
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
		if obj == nil {
			ns, name, _ := cache.SplitMetaNamespaceKey(t.Key)
			return key{ev.r.gvk.Kind, ns, name}
		}
	}
	acc, err := meta.Accessor(obj)
	if err != nil {
		return key{kind: ev.r.gvk.Kind}
	}
	return key{ev.r.gvk.Kind, acc.GetNamespace(), acc.GetName()}
}

// transform trims what bulkhead never reads before informers cache
// objects (managed fields, the last-applied annotation, node images),
// and sets the kind that protobuf decoding leaves empty.
func transform(r *resource) cache.TransformFunc {
	return func(in any) (any, error) {
		obj, ok := in.(k8sruntime.Object)
		if !ok {
			return in, nil
		}
		if acc, err := meta.Accessor(obj); err == nil {
			acc.SetManagedFields(nil)
			if a := acc.GetAnnotations(); a != nil {
				if _, ok := a[corev1.LastAppliedConfigAnnotation]; ok {
					delete(a, corev1.LastAppliedConfigAnnotation)
				}
			}
		}
		if n, ok := obj.(*corev1.Node); ok {
			n.Status.Images = nil
		}
		if obj.GetObjectKind().GroupVersionKind().Empty() {
			obj.GetObjectKind().SetGroupVersionKind(r.gvk)
		}
		return obj, nil
	}
}

// String describes an update for logs.
func (u Update) String() string {
	var b strings.Builder
	switch {
	case u.Initial:
		fmt.Fprintf(&b, "initial snapshot: %d endpoints, %d policies", len(u.Snapshot.Endpoints), len(u.Snapshot.Policies))
	default:
		for i, e := range u.Events {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(e.String())
		}
	}
	return b.String()
}
