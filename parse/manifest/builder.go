package manifest

import (
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/internal/parallel"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/anp"
	"github.com/bulkhead/bulkhead/parse/netpol"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/network-policy-api/apis/v1alpha1"
	"sigs.k8s.io/network-policy-api/apis/v1alpha2"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// Options configure a Builder and Load.
type Options struct {
	// DefaultNamespace is the namespace of namespaced objects that name
	// none, as kubectl's current namespace would be; "default" when empty.
	DefaultNamespace string
	// Workers is how many documents Load decodes at once; GOMAXPROCS when
	// zero or negative.
	Workers int
}

func (o Options) defaultNamespace() string {
	if o.DefaultNamespace == "" {
		return metav1.NamespaceDefault
	}
	return o.DefaultNamespace
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Object is a loaded object and where it came from.
type Object struct {
	Source model.Source
	Obj    k8sruntime.Object
}

// Skip is an object left out of the model, and why: a kind bulkhead does
// not model, or a workload represented by the objects it owns.
type Skip struct {
	Source model.Source
	Reason string
}

// Builder accumulates Kubernetes objects and turns them into a
// model.Snapshot. The manifest loader feeds it decoded files; the
// live-cluster source feeds it the objects of its informers. A Builder is
// not safe for concurrent use.
//
// Add only records objects (and duplicates); Snapshot does the modelling,
// because whether a workload is an endpoint depends on every other object
// (see Snapshot).
type Builder struct {
	opts  Options
	objs  []entry
	index map[objKey]int
	skips []seqSkip
	// lastSkips are the skips of the last Snapshot, which adds the
	// workloads represented by their pods and the terminated pods.
	lastSkips []seqSkip
	problems  []seqProblem
	seq       int
}

type entry struct {
	Object
	kind *kindInfo
	seq  int
}

type objKey struct{ group, kind, namespace, name string }

type seqSkip struct {
	Skip
	seq int
}

type seqProblem struct {
	model.Problem
	seq int
}

// NewBuilder returns an empty Builder.
func NewBuilder(opts Options) *Builder {
	return &Builder{opts: opts, index: map[objKey]int{}}
}

// Add records a typed object: a Namespace, Node, Pod, workload
// (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
// Job, CronJob), NetworkPolicy, or one of the cluster policy tiers
// (AdminNetworkPolicy and BaselineAdminNetworkPolicy v1alpha1,
// ClusterNetworkPolicy v1alpha2 and v1beta1). Objects of other types are
// recorded as skipped.
//
// The empty fields of src (Kind, Namespace, Name) are filled in from the
// object. Add sets the namespace of a namespaced object that has none to
// Options.DefaultNamespace, clears it on cluster-scoped ones, and sets an
// empty TypeMeta, so that Objects returns them as the API server would:
// Add may modify obj and keeps it, so callers pass objects they own (a
// DeepCopyObject of an informer's cached object, say).
// An object without a name, or a second object with the same group, kind,
// namespace and name as an earlier one, is an error problem and is left
// out; the first one is kept.
func (b *Builder) Add(obj k8sruntime.Object, src model.Source) {
	b.seq++
	b.lastSkips = nil
	if isNil(obj) {
		b.problem(src, "", model.SeverityError, "no object (nil)")
		return
	}
	k := kindOf(obj)
	acc, err := meta.Accessor(obj)
	if err != nil {
		if src.Kind == "" {
			src.Kind = reflect.TypeOf(obj).Elem().Name()
		}
		b.AddSkipped(src, "kind not modelled")
		return
	}
	if src.Name == "" {
		src.Name = acc.GetName()
	}
	if k == nil {
		if src.Kind == "" {
			src.Kind = obj.GetObjectKind().GroupVersionKind().Kind
		}
		if src.Kind == "" {
			src.Kind = reflect.TypeOf(obj).Elem().Name()
		}
		if src.Namespace == "" {
			src.Namespace = acc.GetNamespace()
		}
		b.AddSkipped(src, "kind not modelled")
		return
	}
	if src.Kind == "" {
		src.Kind = k.gvk.Kind
	}
	if k.namespaced {
		if acc.GetNamespace() == "" {
			acc.SetNamespace(b.opts.defaultNamespace())
		}
	} else if acc.GetNamespace() != "" {
		// Only write when needed: live sources pass informer objects that
		// others share.
		acc.SetNamespace("")
	}
	src.Namespace = acc.GetNamespace()
	if obj.GetObjectKind().GroupVersionKind().Empty() {
		obj.GetObjectKind().SetGroupVersionKind(k.gvk)
	}

	if acc.GetName() == "" {
		b.problem(src, "metadata.name", model.SeverityError, "Required value: name is required")
		return
	}
	if k.namespaced {
		if msgs := utilvalidation.IsDNS1123Label(src.Namespace); len(msgs) > 0 {
			b.problem(src, "metadata.namespace", model.SeverityError, fmt.Sprintf("Invalid value: %q: %s", src.Namespace, msgs[0]))
			return
		}
	}
	key := objKey{k.gvk.Group, k.gvk.Kind, src.Namespace, acc.GetName()}
	if i, dup := b.index[key]; dup {
		first := b.objs[i].Source
		where := first.Location()
		if where == "" {
			where = "earlier"
		} else {
			where = "at " + where
		}
		b.problem(src, "", model.SeverityError, fmt.Sprintf("duplicate object: %s is also defined %s; the first one is kept", src.Object(), where))
		return
	}
	b.index[key] = len(b.objs)
	b.objs = append(b.objs, entry{Object: Object{Source: src, Obj: obj}, kind: k, seq: b.seq})
}

func isNil(obj k8sruntime.Object) bool {
	if obj == nil {
		return true
	}
	v := reflect.ValueOf(obj)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// AddSkipped records an object that is not modelled, with the reason
// shown in the -v skipped list. It counts in Snapshot.Skipped by kind.
func (b *Builder) AddSkipped(src model.Source, reason string) {
	b.seq++
	b.skips = append(b.skips, seqSkip{Skip{src, reason}, b.seq})
	b.lastSkips = nil
}

// AddProblem records problems found outside the Builder, such as decoding
// errors, in the order of the input.
func (b *Builder) AddProblem(ps ...model.Problem) {
	b.seq++
	for _, p := range ps {
		b.problems = append(b.problems, seqProblem{p, b.seq})
	}
}

func (b *Builder) problem(src model.Source, fld string, sev model.Severity, msg string) {
	b.problems = append(b.problems, seqProblem{model.Problem{Source: src, Field: fld, Severity: sev, Msg: msg}, b.seq})
}

// Objects returns the objects added, valid or not as models go, in the
// order they were added, without duplicates and skipped kinds.
func (b *Builder) Objects() []Object {
	out := make([]Object, len(b.objs))
	for i, e := range b.objs {
		out[i] = e.Object
	}
	return out
}

// Skipped returns the objects left out of the model and why, in input
// order. It is only complete after Snapshot, which decides which workloads
// their pods represent.
func (b *Builder) Skipped() []Skip {
	skips := b.skips
	if b.lastSkips != nil {
		skips = b.lastSkips
	}
	out := make([]Skip, len(skips))
	for i, s := range skips {
		out[i] = s.Skip
	}
	return out
}

// Snapshot models the objects added so far:
//
//   - Namespace objects become declared namespaces, which always carry the
//     label kubernetes.io/metadata.name=<name> as the API server sets it;
//     a namespace that objects live in but no Namespace object declares
//     exists with only that label and Declared false.
//   - A Pod becomes an EndpointPod with its labels, status IPs, container
//     ports, hostNetwork and node. Pods that have terminated (phase
//     Succeeded or Failed) are skipped: they hold no address and accept no
//     connection.
//   - A workload becomes one EndpointWorkload for the pods its template
//     creates, unless another object of the input (a pod that has not
//     terminated, or a workload) names it in its ownerReferences: then
//     those objects represent it, and it is skipped, so that an input like
//     `kubectl get all` does not count a Deployment, its ReplicaSet and
//     their pods three times. Owners match by uid when both sides have one,
//     else by kind and name in the same namespace.
//   - Nodes become model.Node with their InternalIP and ExternalIP
//     addresses.
//   - Policies are converted by packages netpol and anp.
//
// Invalid objects are left out, with error problems. Snapshot may be
// called again after more Adds; each call models everything afresh.
func (b *Builder) Snapshot() *model.Snapshot {
	snap := &model.Snapshot{Namespaces: map[string]*model.Namespace{}, Skipped: map[string]int{}}
	problems := append([]seqProblem(nil), b.problems...)
	skips := append([]seqSkip(nil), b.skips...)
	addProblems := func(seq int, ps []model.Problem) {
		for _, p := range ps {
			problems = append(problems, seqProblem{p, seq})
		}
	}

	// Model every object on its own, concurrently; then assemble in input
	// order, so that the result does not depend on the scheduling.
	owners := b.owners()
	models := make([]modelled, len(b.objs))
	parallel.For(b.opts.workers(), len(b.objs), func(i int) { models[i] = modelOf(b.objs[i], owners) })
	for i, m := range models {
		e := b.objs[i]
		switch {
		case m.skip != "":
			skips = append(skips, seqSkip{Skip{e.Source, m.skip}, e.seq})
		case m.ns != nil:
			snap.Namespaces[m.ns.Name] = m.ns
		case m.node != nil:
			snap.Nodes = append(snap.Nodes, m.node)
		case m.ep != nil:
			snap.Endpoints = append(snap.Endpoints, m.ep)
		case m.pol != nil:
			snap.Policies = append(snap.Policies, m.pol)
		}
		addProblems(e.seq, m.problems)
	}

	// Namespaces that objects live in exist even when no manifest declares
	// them.
	refer := func(name string, src model.Source) {
		if name == "" || snap.Namespaces[name] != nil {
			return
		}
		snap.Namespaces[name] = &model.Namespace{
			Name:   name,
			Labels: map[string]string{model.NamespaceNameLabel: name},
			Source: model.Source{File: src.File, Line: src.Line, Kind: "Namespace", Name: name},
		}
	}
	for _, e := range b.objs {
		if e.kind.namespaced {
			refer(e.Source.Namespace, e.Source)
		}
	}
	for _, s := range skips {
		refer(s.Source.Namespace, s.Source)
	}

	sortEndpoints(snap.Endpoints)
	sort.Slice(snap.Nodes, func(i, j int) bool { return snap.Nodes[i].Name < snap.Nodes[j].Name })
	sort.SliceStable(skips, func(i, j int) bool { return skips[i].seq < skips[j].seq })
	for _, s := range skips {
		snap.Skipped[s.Source.Kind]++
		snap.SkippedObjects = append(snap.SkippedObjects, s.Source)
	}
	b.lastSkips = skips
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].seq < problems[j].seq })
	for _, p := range problems {
		snap.Problems = append(snap.Problems, p.Problem)
	}
	return snap
}

// modelled is what one object becomes in the model.
type modelled struct {
	ns       *model.Namespace
	node     *model.Node
	ep       *model.Endpoint
	pol      *model.Policy
	skip     string
	problems []model.Problem
}

func modelOf(e entry, owners ownerIndex) (m modelled) {
	switch o := e.Obj.(type) {
	case *corev1.Namespace:
		m.ns, m.problems = namespaceOf(o, e.Source)
	case *corev1.Node:
		m.node, m.problems = nodeOf(o, e.Source)
	case *corev1.Pod:
		if phase := o.Status.Phase; phase == corev1.PodSucceeded || phase == corev1.PodFailed {
			m.skip = fmt.Sprintf("pod has terminated (phase %s)", phase)
			return m
		}
		m.ep, m.problems = podEndpoint(o, e.Source)
	case *networkingv1.NetworkPolicy:
		m.pol, m.problems = netpol.FromNetworkPolicy(o, e.Source)
	case *v1alpha1.AdminNetworkPolicy:
		m.pol, m.problems = anp.FromAdminNetworkPolicy(o, e.Source)
	case *v1alpha1.BaselineAdminNetworkPolicy:
		m.pol, m.problems = anp.FromBaselineAdminNetworkPolicy(o, e.Source)
	case *v1alpha2.ClusterNetworkPolicy:
		m.pol, m.problems = anp.FromClusterNetworkPolicyV1alpha2(o, e.Source)
	case *v1beta1.ClusterNetworkPolicy:
		m.pol, m.problems = anp.FromClusterNetworkPolicyV1beta1(o, e.Source)
	default:
		if !e.kind.workload {
			return m
		}
		if by, owned := owners.owns(e); owned {
			m.skip = representedBy(by)
			return m
		}
		m.ep, m.problems = workloadEndpoint(e.Obj, e.Source)
	}
	return m
}

// sortEndpoints orders endpoints as model.SortEndpoints does, computing
// each ID once.
func sortEndpoints(eps []*model.Endpoint) {
	ids := make(map[*model.Endpoint]string, len(eps))
	for _, e := range eps {
		ids[e] = e.ID()
	}
	slices.SortFunc(eps, func(a, b *model.Endpoint) int { return strings.Compare(ids[a], ids[b]) })
}

// ownerIndex holds the ownerReferences of the objects that can represent
// their owners: pods that have not terminated, and workloads.
type ownerIndex struct {
	byUID  map[string]model.Source
	byName map[objKey][]ownerRef
}

type ownerRef struct {
	uid string
	dep model.Source
}

func (b *Builder) owners() ownerIndex {
	idx := ownerIndex{byUID: map[string]model.Source{}, byName: map[objKey][]ownerRef{}}
	for _, e := range b.objs {
		if pod, ok := e.Obj.(*corev1.Pod); ok {
			if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
				continue
			}
		} else if !e.kind.workload {
			continue
		}
		acc, _ := meta.Accessor(e.Obj)
		for _, ref := range acc.GetOwnerReferences() {
			if ref.UID != "" {
				if _, ok := idx.byUID[string(ref.UID)]; !ok {
					idx.byUID[string(ref.UID)] = e.Source
				}
			}
			k := objKey{kind: ref.Kind, namespace: e.Source.Namespace, name: ref.Name}
			idx.byName[k] = append(idx.byName[k], ownerRef{string(ref.UID), e.Source})
		}
	}
	return idx
}

// owns reports whether an object of the input names the workload e as
// its owner, and which.
func (idx ownerIndex) owns(e entry) (model.Source, bool) {
	acc, _ := meta.Accessor(e.Obj)
	uid := string(acc.GetUID())
	if uid != "" {
		if dep, ok := idx.byUID[uid]; ok {
			return dep, true
		}
	}
	for _, ref := range idx.byName[objKey{kind: e.kind.gvk.Kind, namespace: e.Source.Namespace, name: e.Source.Name}] {
		if ref.uid == "" || uid == "" {
			return ref.dep, true
		}
	}
	return model.Source{}, false
}

func representedBy(dep model.Source) string {
	if dep.Kind == "Pod" {
		return "represented by its pods (" + dep.Object() + ")"
	}
	return "represented by " + dep.Object() + ", which it owns"
}
