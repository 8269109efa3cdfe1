package kube

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bulkhead/bulkhead/internal/parallel"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
)

// Op says what happened to an object or a model item.
type Op uint8

const (
	OpUnknown Op = iota
	Added
	Updated
	Deleted
)

func (o Op) String() string {
	switch o {
	case Added:
		return "added"
	case Updated:
		return "updated"
	case Deleted:
		return "deleted"
	}
	return "unknown"
}

// Event is one object change that changed the model: the cause shown next
// to the connections it adds or removes.
type Event struct {
	Op Op
	// Object names the object: Kind, Namespace and Name (File is "").
	Object model.Source
	// Detail says what changed in the model, for updates: "labels
	// app=web -> app=api", "podIPs 10.0.0.5", "spec", "terminated".
	Detail string
	// Time is when the watch delivered the event (zero for State.Apply
	// callers that do not set it).
	Time time.Time
	// Endpoints are the IDs of the endpoints the event added, removed or
	// changed, including workloads whose pods now represent them.
	Endpoints []string
}

// String formats the event as "pod shop/web-1 added" or
// "namespace shop updated (labels env=dev -> env=prod)".
func (e Event) String() string {
	s := e.Object.Object() + " " + e.Op.String()
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Delta lists the model items a batch of events changed. In each pair Old
// is nil for an item that appeared and New is nil for one that went away.
// It is what an incremental engine needs to know; the snapshot of the
// same Update holds the result.
type Delta struct {
	Endpoints  []EndpointChange
	Namespaces []NamespaceChange
	Nodes      []NodeChange
	Policies   []PolicyChange
}

// EndpointChange is an endpoint before and after.
type EndpointChange struct{ Old, New *model.Endpoint }

// NamespaceChange is a namespace before and after.
type NamespaceChange struct{ Old, New *model.Namespace }

// NodeChange is a node before and after.
type NodeChange struct{ Old, New *model.Node }

// PolicyChange is a policy before and after.
type PolicyChange struct{ Old, New *model.Policy }

// IsEmpty reports whether the delta changes nothing.
func (d *Delta) IsEmpty() bool {
	return len(d.Endpoints) == 0 && len(d.Namespaces) == 0 && len(d.Nodes) == 0 && len(d.Policies) == 0
}

// key identifies an object in a cluster.
type key struct{ kind, namespace, name string }

func (k key) source() model.Source {
	return model.Source{Kind: k.kind, Namespace: k.namespace, Name: k.name}
}

func compareKeys(a, b key) int {
	return cmp.Or(cmp.Compare(rankOf(a.kind), rankOf(b.kind)), cmp.Compare(a.kind, b.kind),
		cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
}

// ownerRef is an ownerReference reduced to what workload representation
// needs (see manifest.Builder.Snapshot).
type ownerRef struct{ uid, kind, name string }

// entry is one object of the cluster and its model.
type entry struct {
	key
	obj      k8sruntime.Object
	uid      string
	workload bool
	// refs are the object's owner references when it can represent its
	// owners: a pod that has not terminated, or a workload.
	refs []ownerRef

	ns         *model.Namespace
	node       *model.Node
	ep         *model.Endpoint // a workload's, even while its pods represent it
	pol        *model.Policy
	terminated string // the skip reason of a terminated pod
	problems   []model.Problem

	represented bool // a workload that objects it owns represent
}

// endpoint returns the entry's endpoint in the model, or nil.
func (e *entry) endpoint() *model.Endpoint {
	if e == nil || e.represented {
		return nil
	}
	return e.ep
}

func (e *entry) skipped() bool {
	return e.terminated != "" || (e.workload && e.represented)
}

// State is a cluster's objects and their model, kept up to date one
// object event at a time. Set and Delete model only the object they are
// given (and flip the workloads whose pods start or stop representing
// them), and Snapshot patches the previous snapshot with what changed, so
// an event costs the object's modelling plus copying the snapshot's
// pointer slices, not a rebuild of the model.
//
// A State gives the snapshot manifest.Builder gives for the same objects
// added in rank order (kinds in the order Read lists them, then namespace
// and name). It is not safe for concurrent use.
type State struct {
	entries map[key]*entry
	// owner index: dependents' references by owner uid, and by owner kind,
	// namespace and name (counting references without a uid apart).
	byUID     map[string]int
	byName    map[key]nameRefs
	workloads map[string]key // uid -> workload
	// nsRefs counts the objects in each namespace, for the namespaces
	// objects live in but no Namespace object declares.
	nsRefs map[string]int

	snap *model.Snapshot
	// pending changes since the last Snapshot.
	delta   Delta
	events  []Event
	touched map[string]bool // endpoint IDs the pending events touched
	issues  bool            // problems or skipped objects changed
}

type nameRefs struct{ total, noUID int }

// NewState returns an empty State.
func NewState() *State {
	s := &State{
		entries: map[key]*entry{}, byUID: map[string]int{}, byName: map[key]nameRefs{},
		workloads: map[string]key{}, nsRefs: map[string]int{},
	}
	s.snap = &model.Snapshot{Namespaces: map[string]*model.Namespace{}, Skipped: map[string]int{}}
	return s
}

// Object is an object of the cluster, or one that could not be read as
// its kind (then Obj is nil and Problems say why).
type Object struct {
	Obj      k8sruntime.Object
	Source   model.Source // Kind, Namespace and Name
	Problems []model.Problem
}

// Reset replaces the whole state with objs, modelling them concurrently,
// and returns the snapshot. It is how a State starts from a full list.
func (s *State) Reset(objs []Object) *model.Snapshot {
	*s = *NewState()
	entries := make([]*entry, len(objs))
	parallel.For(runtime.GOMAXPROCS(0), len(objs), func(i int) { entries[i] = newEntry(objs[i]) })
	for _, e := range entries {
		if old := s.entries[e.key]; old != nil {
			s.unindex(old)
		}
		s.entries[e.key] = e
		s.index(e)
	}
	for _, e := range s.entries {
		if e.workload {
			e.represented = s.owned(e)
		}
	}
	s.snap = s.build()
	s.resetPending()
	return s.snap
}

// Set adds or updates an object and records the event if the model
// changed. It returns false when the model did not change (a status
// heartbeat, a resync, an annotation).
func (s *State) Set(o Object, at time.Time) bool {
	e := newEntry(o)
	old := s.entries[e.key]
	if old != nil && old.obj != nil && e.obj != nil && sameObject(old.obj, e.obj) {
		return false
	}
	if old != nil {
		s.unindex(old)
	}
	s.entries[e.key] = e
	s.index(e)
	if e.workload {
		e.represented = s.owned(e)
	}
	ev := Event{Op: Added, Object: e.key.source(), Time: at}
	if old != nil {
		ev.Op = Updated
		ev.Detail = describeUpdate(old, e)
	}
	changed := s.diffEntry(old, e, &ev)
	s.reowner(old, e, &ev)
	if !changed && len(ev.Endpoints) == 0 {
		return false
	}
	s.events = append(s.events, ev)
	return true
}

// Delete removes an object and records the event. It returns false if
// the State did not hold it.
func (s *State) Delete(src model.Source, at time.Time) bool {
	k := key{src.Kind, src.Namespace, src.Name}
	old := s.entries[k]
	if old == nil {
		return false
	}
	delete(s.entries, k)
	s.unindex(old)
	ev := Event{Op: Deleted, Object: k.source(), Time: at}
	s.diffEntry(old, nil, &ev)
	s.reowner(old, nil, &ev)
	s.events = append(s.events, ev)
	return true
}

// Len returns the number of objects held.
func (s *State) Len() int { return len(s.entries) }

// Current returns the last snapshot taken, without the pending changes.
func (s *State) Current() *model.Snapshot { return s.snap }

// Pending reports whether events changed the model since the last
// Snapshot.
func (s *State) Pending() bool { return len(s.events) > 0 }

// Snapshot returns the model with every pending change applied, the
// events that caused them and the model items they changed, and starts a
// new batch. The snapshot is a new value; earlier ones stay valid and
// unchanged, so they can be handed to engines and readers.
func (s *State) Snapshot() (*model.Snapshot, []Event, Delta) {
	if len(s.events) == 0 {
		return s.snap, nil, Delta{}
	}
	s.snap = s.patch()
	events, delta := s.events, s.delta
	s.resetPending()
	return s.snap, events, delta
}

// Objects returns the objects held, in rank order, as the Builder holds
// them.
func (s *State) Objects() []manifest.Object {
	keys := slices.SortedFunc(maps.Keys(s.entries), compareKeys)
	out := make([]manifest.Object, 0, len(keys))
	for _, k := range keys {
		if e := s.entries[k]; e.obj != nil {
			out = append(out, manifest.Object{Source: k.source(), Obj: e.obj})
		}
	}
	return out
}

func (s *State) resetPending() {
	s.delta, s.events, s.touched, s.issues = Delta{}, nil, map[string]bool{}, false
}

// newEntry models one object on its own with a one-object Builder, which
// is what the Builder does for each object of a full input; only workload
// representation depends on other objects, and the State decides it.
func newEntry(o Object) *entry {
	e := &entry{key: key{o.Source.Kind, o.Source.Namespace, o.Source.Name}, obj: o.Obj}
	e.problems = append(e.problems, o.Problems...)
	if o.Obj == nil {
		return e
	}
	acc, err := meta.Accessor(o.Obj)
	if err != nil {
		return e
	}
	e.uid = string(acc.GetUID())
	obj := o.Obj
	if acc.GetNamespace() == "" {
		// Builder.Add clears the namespace of cluster-scoped objects, a
		// write; an informer's cached object must not see it.
		obj = obj.DeepCopyObject()
	}
	b := manifest.NewBuilder(manifest.Options{Workers: 1})
	b.Add(obj, model.Source{Kind: o.Source.Kind, Namespace: o.Source.Namespace, Name: o.Source.Name})
	snap := b.Snapshot()
	e.problems = append(e.problems, snap.Problems...)
	for _, ns := range snap.Namespaces {
		if ns.Declared {
			e.ns = ns
		}
	}
	if len(snap.Nodes) > 0 {
		e.node = snap.Nodes[0]
	}
	if len(snap.Endpoints) > 0 {
		e.ep = snap.Endpoints[0]
	}
	if len(snap.Policies) > 0 {
		e.pol = snap.Policies[0]
	}
	pod, isPod := o.Obj.(*corev1.Pod)
	e.workload = !isPod && isWorkload(o.Source.Kind)
	if isPod && len(snap.SkippedObjects) > 0 {
		e.terminated = fmt.Sprintf("pod has terminated (phase %s)", pod.Status.Phase)
	}
	if (isPod && e.terminated == "") || e.workload {
		for _, r := range acc.GetOwnerReferences() {
			e.refs = append(e.refs, ownerRef{string(r.UID), r.Kind, r.Name})
		}
	}
	return e
}

func isWorkload(kind string) bool {
	switch kind {
	case "ReplicationController", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob":
		return true
	}
	return false
}

// sameObject reports whether two versions of an object model alike
// without modelling them: the same resourceVersion (an informer resync).
func sameObject(a, b k8sruntime.Object) bool {
	aa, err1 := meta.Accessor(a)
	ba, err2 := meta.Accessor(b)
	return err1 == nil && err2 == nil && aa.GetResourceVersion() != "" && aa.GetResourceVersion() == ba.GetResourceVersion()
}

// index records e in the owner index and the namespace counts.
func (s *State) index(e *entry) {
	if e.namespace != "" {
		s.nsRefs[e.namespace]++
	}
	if e.workload && e.uid != "" {
		s.workloads[e.uid] = e.key
	}
	for _, r := range e.refs {
		if r.uid != "" {
			s.byUID[r.uid]++
		}
		k := key{r.kind, e.namespace, r.name}
		n := s.byName[k]
		n.total++
		if r.uid == "" {
			n.noUID++
		}
		s.byName[k] = n
	}
}

func (s *State) unindex(e *entry) {
	if e.namespace != "" {
		if s.nsRefs[e.namespace]--; s.nsRefs[e.namespace] == 0 {
			delete(s.nsRefs, e.namespace)
		}
	}
	if e.workload && e.uid != "" && s.workloads[e.uid] == e.key {
		delete(s.workloads, e.uid)
	}
	for _, r := range e.refs {
		if r.uid != "" {
			if s.byUID[r.uid]--; s.byUID[r.uid] == 0 {
				delete(s.byUID, r.uid)
			}
		}
		k := key{r.kind, e.namespace, r.name}
		n := s.byName[k]
		n.total--
		if r.uid == "" {
			n.noUID--
		}
		if n.total == 0 {
			delete(s.byName, k)
		} else {
			s.byName[k] = n
		}
	}
}

// owned reports whether an object of the state names workload e as its
// owner, by uid when both sides have one, else by kind and name in the
// same namespace, as the Builder decides.
func (s *State) owned(e *entry) bool {
	if e.uid != "" && s.byUID[e.uid] > 0 {
		return true
	}
	n := s.byName[e.key]
	if e.uid == "" {
		return n.total > 0
	}
	return n.noUID > 0
}

// reowner re-decides the representation of the workloads that old or new
// name as owners, and records the endpoints that appear or go away.
func (s *State) reowner(old, new *entry, ev *Event) {
	seen := map[key]bool{}
	var refs []ownerRef
	var ns string
	if old != nil {
		refs, ns = append(refs, old.refs...), old.namespace
	}
	if new != nil {
		refs, ns = append(refs, new.refs...), new.namespace
	}
	for _, r := range refs {
		var cands []key
		if wk, ok := s.workloads[r.uid]; ok && r.uid != "" {
			cands = append(cands, wk)
		}
		cands = append(cands, key{r.kind, ns, r.name})
		for _, k := range cands {
			if seen[k] {
				continue
			}
			seen[k] = true
			w := s.entries[k]
			if w == nil || !w.workload || w == new {
				continue
			}
			rep := s.owned(w)
			if rep == w.represented {
				continue
			}
			before := w.endpoint()
			w.represented = rep
			s.issues = true
			s.endpointChange(before, w.endpoint(), ev)
		}
	}
}

// diffEntry records how the model items of an object changed, and
// reports whether any did.
func (s *State) diffEntry(old, new *entry, ev *Event) bool {
	var changed bool
	if old != nil && old.namespace != "" && (new == nil || new.namespace != old.namespace) {
		changed = s.implicitNamespace(old.namespace) || changed
	}
	if new != nil && new.namespace != "" {
		changed = s.implicitNamespace(new.namespace) || changed
	}
	var oldNS, newNS *model.Namespace
	var oldNode, newNode *model.Node
	var oldPol, newPol *model.Policy
	var oldEP, newEP *model.Endpoint
	var oldIssues, newIssues bool
	if old != nil {
		oldNS, oldNode, oldPol, oldEP = old.ns, old.node, old.pol, old.endpoint()
		oldIssues = len(old.problems) > 0 || old.skipped()
	}
	if new != nil {
		newNS, newNode, newPol, newEP = new.ns, new.node, new.pol, new.endpoint()
		newIssues = len(new.problems) > 0 || new.skipped()
	}
	if oldIssues || newIssues {
		if !oldIssues || !newIssues || !slices.Equal(old.problems, new.problems) || old.skipped() != new.skipped() {
			s.issues = true
			changed = true
		}
	}
	if (oldNS != nil || newNS != nil) && !sameNamespace(oldNS, newNS) {
		name := ""
		if oldNS != nil {
			name = oldNS.Name
		} else {
			name = newNS.Name
		}
		// A declared namespace hides the implicit one and reveals it when
		// it goes; namespaceChange compares what the snapshot shows.
		s.namespaceChange(name, oldNS, newNS)
		changed = true
	}
	if (oldNode != nil || newNode != nil) && !sameNode(oldNode, newNode) {
		s.delta.Nodes = append(s.delta.Nodes, NodeChange{oldNode, newNode})
		changed = true
	}
	if (oldPol != nil || newPol != nil) && !samePolicy(old, new) {
		s.delta.Policies = append(s.delta.Policies, PolicyChange{oldPol, newPol})
		changed = true
	}
	if (oldEP != nil || newEP != nil) && !sameEndpoint(oldEP, newEP) {
		s.endpointChange(oldEP, newEP, ev)
		changed = true
	}
	return changed
}

func (s *State) endpointChange(old, new *model.Endpoint, ev *Event) {
	if old == nil && new == nil {
		return
	}
	s.delta.Endpoints = append(s.delta.Endpoints, EndpointChange{old, new})
	for _, ep := range []*model.Endpoint{old, new} {
		if ep != nil && !slices.Contains(ev.Endpoints, ep.ID()) {
			ev.Endpoints = append(ev.Endpoints, ep.ID())
		}
	}
}

// namespaceChange records a declared namespace's change; the implicit
// namespace takes its place when no declaration is left and objects
// still live there (implicitNamespace records that).
func (s *State) namespaceChange(name string, old, new *model.Namespace) {
	if old == nil {
		old = s.shownNamespace(name)
	}
	if new == nil && s.nsRefs[name] > 0 {
		new = implicitNS(name)
	}
	if !sameNamespace(old, new) {
		s.delta.Namespaces = append(s.delta.Namespaces, NamespaceChange{old, new})
	}
}

// implicitNamespace records a namespace that objects live in appearing or
// disappearing, when no Namespace object declares it.
func (s *State) implicitNamespace(name string) bool {
	if s.declared(name) != nil {
		return false
	}
	shown := s.shownNamespace(name)
	want := s.nsRefs[name] > 0
	if want == (shown != nil) {
		return false
	}
	var n *model.Namespace
	if want {
		n = implicitNS(name)
	}
	s.delta.Namespaces = append(s.delta.Namespaces, NamespaceChange{shown, n})
	return true
}

// shownNamespace is the namespace the snapshot would show with the
// pending namespace changes.
func (s *State) shownNamespace(name string) *model.Namespace {
	for i := len(s.delta.Namespaces) - 1; i >= 0; i-- {
		c := s.delta.Namespaces[i]
		if c.New != nil && c.New.Name == name {
			return c.New
		}
		if c.Old != nil && c.Old.Name == name && c.New == nil {
			return nil
		}
	}
	return s.snap.Namespaces[name]
}

func (s *State) declared(name string) *model.Namespace {
	if e := s.entries[key{"Namespace", "", name}]; e != nil {
		return e.ns
	}
	return nil
}

func implicitNS(name string) *model.Namespace {
	return &model.Namespace{
		Name:   name,
		Labels: map[string]string{model.NamespaceNameLabel: name},
		Source: model.Source{Kind: "Namespace", Name: name},
	}
}

// build models every entry from scratch.
func (s *State) build() *model.Snapshot {
	snap := &model.Snapshot{Namespaces: map[string]*model.Namespace{}, Skipped: map[string]int{}}
	keys := slices.SortedFunc(maps.Keys(s.entries), compareKeys)
	for _, k := range keys {
		e := s.entries[k]
		switch {
		case e.ns != nil:
			snap.Namespaces[e.ns.Name] = e.ns
		case e.node != nil:
			snap.Nodes = append(snap.Nodes, e.node)
		case e.pol != nil:
			snap.Policies = append(snap.Policies, e.pol)
		case e.endpoint() != nil:
			snap.Endpoints = append(snap.Endpoints, e.ep)
		}
	}
	for name := range s.nsRefs {
		if snap.Namespaces[name] == nil {
			snap.Namespaces[name] = implicitNS(name)
		}
	}
	sortByID(snap.Endpoints)
	sort.Slice(snap.Nodes, func(i, j int) bool { return snap.Nodes[i].Name < snap.Nodes[j].Name })
	s.issuesInto(snap, keys)
	return snap
}

// issuesInto fills the snapshot's problems and skipped objects, in rank
// order.
func (s *State) issuesInto(snap *model.Snapshot, keys []key) {
	if keys == nil {
		for k, e := range s.entries {
			if len(e.problems) > 0 || e.skipped() {
				keys = append(keys, k)
			}
		}
		slices.SortFunc(keys, compareKeys)
	}
	snap.Skipped = map[string]int{}
	snap.SkippedObjects, snap.Problems = nil, nil
	for _, k := range keys {
		e := s.entries[k]
		if e.skipped() {
			snap.Skipped[k.kind]++
			snap.SkippedObjects = append(snap.SkippedObjects, k.source())
		}
		snap.Problems = append(snap.Problems, e.problems...)
	}
}

// patch applies the pending delta to a copy of the current snapshot.
func (s *State) patch() *model.Snapshot {
	old := s.snap
	snap := &model.Snapshot{
		Namespaces: old.Namespaces, Endpoints: old.Endpoints, Nodes: old.Nodes, Policies: old.Policies,
		Skipped: old.Skipped, SkippedObjects: old.SkippedObjects, Problems: old.Problems,
	}
	if len(s.delta.Namespaces) > 0 {
		snap.Namespaces = maps.Clone(old.Namespaces)
		for _, c := range s.delta.Namespaces {
			if c.New != nil {
				snap.Namespaces[c.New.Name] = c.New
			} else if c.Old != nil {
				delete(snap.Namespaces, c.Old.Name)
			}
		}
	}
	if len(s.delta.Endpoints) > 0 {
		snap.Endpoints = patchSorted(old.Endpoints, s.delta.Endpoints,
			func(c EndpointChange) (*model.Endpoint, *model.Endpoint) { return c.Old, c.New },
			func(e *model.Endpoint) string { return e.ID() })
	}
	if len(s.delta.Nodes) > 0 {
		snap.Nodes = patchSorted(old.Nodes, s.delta.Nodes,
			func(c NodeChange) (*model.Node, *model.Node) { return c.Old, c.New },
			func(n *model.Node) string { return n.Name })
	}
	if len(s.delta.Policies) > 0 {
		// Policies keep the rank order of their objects.
		snap.Policies = slices.Clone(old.Policies)
		find := func(k key) (int, bool) {
			return slices.BinarySearchFunc(snap.Policies, k, func(p *model.Policy, k key) int { return compareKeys(policyKey(p), k) })
		}
		for _, c := range s.delta.Policies {
			if c.Old != nil {
				if i, ok := find(policyKey(c.Old)); ok {
					snap.Policies = slices.Delete(snap.Policies, i, i+1)
				}
			}
			if c.New != nil {
				i, ok := find(policyKey(c.New))
				if ok {
					snap.Policies[i] = c.New
				} else {
					snap.Policies = slices.Insert(snap.Policies, i, c.New)
				}
			}
		}
	}
	if s.issues {
		s.issuesInto(snap, nil)
	}
	return snap
}

func policyKey(p *model.Policy) key {
	return key{p.Source.Kind, p.Source.Namespace, p.Source.Name}
}

// patchSorted returns a copy of items (sorted by id) with the changes
// applied in order. It costs a copy of the slice and a binary search per
// change, not a sort.
func patchSorted[T any, C any](items []*T, changes []C, pair func(C) (*T, *T), id func(*T) string) []*T {
	final := map[string]*T{} // nil: removed
	var order []string
	for _, c := range changes {
		o, n := pair(c)
		for _, x := range []*T{o, n} {
			if x == nil {
				continue
			}
			i := id(x)
			if _, ok := final[i]; !ok {
				order = append(order, i)
			}
			final[i] = nil
		}
		if n != nil {
			final[id(n)] = n
		}
	}
	out := slices.Clone(items)
	for _, i := range order {
		pos, found := slices.BinarySearchFunc(out, i, func(x *T, t string) int { return strings.Compare(id(x), t) })
		switch n := final[i]; {
		case found && n == nil:
			out = slices.Delete(out, pos, pos+1)
		case found:
			out[pos] = n
		case n != nil:
			out = slices.Insert(out, pos, n)
		}
	}
	return out
}

func sortByID(eps []*model.Endpoint) {
	ids := make(map[*model.Endpoint]string, len(eps))
	for _, e := range eps {
		ids[e] = e.ID()
	}
	slices.SortFunc(eps, func(a, b *model.Endpoint) int { return strings.Compare(ids[a], ids[b]) })
}

func sameNamespace(a, b *model.Namespace) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Name == b.Name && a.Declared == b.Declared && maps.Equal(a.Labels, b.Labels)
}

func sameNode(a, b *model.Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Name == b.Name && maps.Equal(a.Labels, b.Labels) && slices.Equal(a.IPs, b.IPs)
}

func sameEndpoint(a, b *model.Endpoint) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Kind == b.Kind && a.Workload == b.Workload && a.Namespace == b.Namespace && a.Name == b.Name &&
		maps.Equal(a.Labels, b.Labels) && slices.Equal(a.IPs, b.IPs) && slices.Equal(a.Ports, b.Ports) &&
		a.HostNetwork == b.HostNetwork && a.NodeName == b.NodeName
}

// samePolicy compares the policies of two versions of an object by their
// specs, which is all a policy's model depends on.
func samePolicy(a, b *entry) bool {
	if a == nil || b == nil || a.pol == nil || b.pol == nil {
		return a != nil && b != nil && a.pol == nil && b.pol == nil
	}
	return equality.Semantic.DeepEqual(specOf(a.obj), specOf(b.obj))
}

func specOf(obj k8sruntime.Object) any {
	v := reflect.ValueOf(obj)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return obj
	}
	if f := v.FieldByName("Spec"); f.IsValid() {
		return f.Interface()
	}
	return obj
}

// describeUpdate says what changed between two versions of an object, in
// the terms of the model.
func describeUpdate(old, new *entry) string {
	var parts []string
	switch {
	case old.terminated == "" && new.terminated != "":
		return "terminated"
	case old.obj == nil && new.obj != nil:
		return "readable again"
	case new.obj == nil:
		return "unreadable"
	}
	if d := labelDiff(labelsOf(old), labelsOf(new)); d != "" {
		parts = append(parts, "labels "+d)
	}
	if a, b := ipsOf(old), ipsOf(new); !slices.Equal(a, b) {
		parts = append(parts, "IPs "+ipList(a)+" -> "+ipList(b))
	}
	if old.ep != nil && new.ep != nil {
		if !slices.Equal(old.ep.Ports, new.ep.Ports) {
			parts = append(parts, "ports")
		}
		if old.ep.HostNetwork != new.ep.HostNetwork {
			parts = append(parts, fmt.Sprintf("hostNetwork %v", new.ep.HostNetwork))
		}
		if old.ep.NodeName != new.ep.NodeName {
			parts = append(parts, "node "+new.ep.NodeName)
		}
	}
	if (old.pol != nil || new.pol != nil) && !samePolicy(old, new) {
		parts = append(parts, "spec")
	}
	if !slices.Equal(old.problems, new.problems) && len(new.problems) > 0 {
		parts = append(parts, "invalid")
	}
	return strings.Join(parts, ", ")
}

func labelsOf(e *entry) map[string]string {
	switch {
	case e.ns != nil:
		return e.ns.Labels
	case e.node != nil:
		return e.node.Labels
	case e.ep != nil:
		return e.ep.Labels
	}
	return nil
}

func ipsOf(e *entry) []netip.Addr {
	switch {
	case e.node != nil:
		return e.node.IPs
	case e.ep != nil:
		return e.ep.IPs
	}
	return nil
}

func ipList(ips []netip.Addr) string {
	if len(ips) == 0 {
		return "none"
	}
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ",")
}

// labelDiff formats the label changes as "+k=v -k=v k=v->w", ignoring
// kubernetes.io/metadata.name, which never changes.
func labelDiff(a, b map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(b)) {
		av, ok := a[k]
		switch {
		case !ok:
			out = append(out, "+"+k+"="+b[k])
		case av != b[k]:
			out = append(out, k+"="+av+"->"+b[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if _, ok := b[k]; !ok {
			out = append(out, "-"+k+"="+a[k])
		}
	}
	return strings.Join(out, " ")
}
