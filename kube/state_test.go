package kube

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// flat is a snapshot reduced to comparable values.
type flat struct {
	Namespaces []string
	Endpoints  []string
	Nodes      []string
	Policies   []string
	Skipped    map[string]int
	SkippedObj []string
	Problems   []string
}

func flatten(s *model.Snapshot) flat {
	f := flat{Skipped: s.Skipped}
	if len(f.Skipped) == 0 {
		f.Skipped = nil
	}
	for _, n := range s.NamespaceNames() {
		ns := s.Namespaces[n]
		f.Namespaces = append(f.Namespaces, fmt.Sprintf("%s declared=%v %v %s", ns.Name, ns.Declared, labels(ns.Labels), ns.Source))
	}
	for _, e := range s.Endpoints {
		f.Endpoints = append(f.Endpoints, fmt.Sprintf("%s %v ips=%v ports=%v host=%v node=%s %s", e.ID(), labels(e.Labels), e.IPs, e.Ports, e.HostNetwork, e.NodeName, e.Source))
	}
	for _, n := range s.Nodes {
		f.Nodes = append(f.Nodes, fmt.Sprintf("%s %v %v", n.Name, labels(n.Labels), n.IPs))
	}
	for _, p := range s.Policies {
		f.Policies = append(f.Policies, fmt.Sprintf("%s tier=%s prio=%d rules=%d subject=%s", p.Ref(), p.Tier, p.Priority, len(p.Rules), p.Subject))
	}
	for _, o := range s.SkippedObjects {
		f.SkippedObj = append(f.SkippedObj, o.String())
	}
	for _, p := range s.Problems {
		f.Problems = append(f.Problems, p.Error())
	}
	return f
}

func labels(m map[string]string) string {
	var s []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		s = append(s, k+"="+m[k])
	}
	return strings.Join(s, ",")
}

// builderSnapshot models objs with one Builder, in rank order, as Read
// does.
func builderSnapshot(objs map[key]k8sruntime.Object) *model.Snapshot {
	b := manifest.NewBuilder(manifest.Options{})
	for _, k := range slices.SortedFunc(maps.Keys(objs), compareKeys) {
		b.Add(objs[k].DeepCopyObject(), model.Source{})
	}
	return b.Snapshot()
}

func keyOf(o k8sruntime.Object) key {
	acc, _ := meta.Accessor(o)
	kind := o.GetObjectKind().GroupVersionKind().Kind
	return key{kind, acc.GetNamespace(), acc.GetName()}
}

func withKind(o k8sruntime.Object, apiVersion, kind string) k8sruntime.Object {
	tm := metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
	o.GetObjectKind().SetGroupVersionKind(tm.GroupVersionKind())
	return o
}

// world is a random cluster the oracle test mutates.
type world struct {
	r    *rand.Rand
	objs map[key]k8sruntime.Object
	n    int
}

func (w *world) uid() types.UID { w.n++; return types.UID(fmt.Sprintf("uid-%d", w.n)) }

func (w *world) put(o k8sruntime.Object) key {
	k := keyOf(o)
	w.objs[k] = o
	return k
}

var oracleNamespaces = []string{"a", "b", "c"}

func (w *world) pod(ns, name string, owner *metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: w.uid(), Labels: map[string]string{"app": fmt.Sprint(w.r.IntN(3))}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: int32(8000 + w.r.IntN(3)), Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{PodIP: fmt.Sprintf("10.0.%d.%d", w.r.IntN(4), w.r.IntN(250)+1)},
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	withKind(p, "v1", "Pod")
	return p
}

func (w *world) deployment(ns, name string) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: w.uid()}}
	d.Spec.Template.Labels = map[string]string{"app": fmt.Sprint(w.r.IntN(3))}
	withKind(d, "apps/v1", "Deployment")
	return d
}

func (w *world) replicaSet(d *appsv1.Deployment, name string) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: d.Namespace, UID: w.uid(),
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID}}}}
	rs.Spec.Template = d.Spec.Template
	withKind(rs, "apps/v1", "ReplicaSet")
	return rs
}

func (w *world) namespace(name string) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"env": []string{"dev", "prod"}[w.r.IntN(2)]}}}
	withKind(ns, "v1", "Namespace")
	return ns
}

func (w *world) node(name string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"zone": fmt.Sprint(w.r.IntN(2))}}}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("192.168.0.%d", w.r.IntN(250)+1)}}
	withKind(n, "v1", "Node")
	return n
}

func (w *world) policy(ns, name string) *networkingv1.NetworkPolicy {
	p := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprint(w.r.IntN(3))}}}}
	if w.r.IntN(5) == 0 {
		// invalid: the Builder reports it.
		p.Spec.PodSelector.MatchLabels = map[string]string{"bad key!": "x"}
	}
	withKind(p, "networking.k8s.io/v1", "NetworkPolicy")
	return p
}

// mutate makes one random change and returns the object set or deleted.
func (w *world) mutate() (set k8sruntime.Object, del *key) {
	ns := oracleNamespaces[w.r.IntN(len(oracleNamespaces))]
	keys := slices.SortedFunc(maps.Keys(w.objs), compareKeys)
	var pick func(kind string) (key, bool)
	pick = func(kind string) (key, bool) {
		var ks []key
		for _, k := range keys {
			if k.kind == kind {
				ks = append(ks, k)
			}
		}
		if len(ks) == 0 {
			return key{}, false
		}
		return ks[w.r.IntN(len(ks))], true
	}
	switch w.r.IntN(14) {
	case 0:
		return w.namespace(ns), nil
	case 1:
		if k, ok := pick("Namespace"); ok {
			return nil, &k
		}
	case 2:
		return w.node(fmt.Sprintf("n%d", w.r.IntN(3))), nil
	case 3:
		if k, ok := pick("Node"); ok {
			return nil, &k
		}
	case 4, 5:
		// a pod, maybe owned by a replica set (by uid) or by name only
		var owner *metav1.OwnerReference
		if k, ok := pick("ReplicaSet"); ok && w.r.IntN(2) == 0 && k.namespace == ns {
			rs := w.objs[k].(*appsv1.ReplicaSet)
			owner = &metav1.OwnerReference{Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID}
			if w.r.IntN(3) == 0 {
				owner.UID = ""
			}
		}
		return w.pod(ns, fmt.Sprintf("p%d", w.r.IntN(8)), owner), nil
	case 6:
		if k, ok := pick("Pod"); ok {
			p := w.objs[k].DeepCopyObject().(*corev1.Pod)
			switch w.r.IntN(4) {
			case 0:
				p.Status.Phase = corev1.PodSucceeded
			case 1:
				p.Labels = map[string]string{"app": fmt.Sprint(w.r.IntN(3))}
			case 2:
				p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady}) // no model change
			default:
				p.OwnerReferences = nil
			}
			return p, nil
		}
	case 7:
		if k, ok := pick("Pod"); ok {
			return nil, &k
		}
	case 8:
		return w.deployment(ns, fmt.Sprintf("d%d", w.r.IntN(3))), nil
	case 9:
		if k, ok := pick("Deployment"); ok {
			d := w.objs[k].(*appsv1.Deployment)
			return w.replicaSet(d, fmt.Sprintf("%s-rs%d", d.Name, w.r.IntN(2))), nil
		}
	case 10:
		for _, kind := range []string{"Deployment", "ReplicaSet"} {
			if k, ok := pick(kind); ok && w.r.IntN(2) == 0 {
				return nil, &k
			}
		}
	case 11, 12:
		return w.policy(ns, fmt.Sprintf("np%d", w.r.IntN(4))), nil
	case 13:
		if k, ok := pick("NetworkPolicy"); ok {
			return nil, &k
		}
	}
	return nil, nil
}

// TestStateMatchesBuilder applies random object events to a State and
// checks, after every batch, that its patched snapshot is the one a
// Builder gives for the same objects, and that the events name what
// changed.
func TestStateMatchesBuilder(t *testing.T) {
	runs, steps := 40, 150
	if testing.Short() {
		runs = 8
	}
	for run := range runs {
		w := &world{r: rand.New(rand.NewPCG(uint64(run), 7)), objs: map[key]k8sruntime.Object{}}
		for range 10 {
			if o, _ := w.mutate(); o != nil {
				w.put(o)
			}
		}
		s := NewState()
		var objs []Object
		for _, o := range w.objs {
			objs = append(objs, objectOf(o))
		}
		got := s.Reset(objs)
		if diff := cmp.Diff(flatten(builderSnapshot(w.objs)), flatten(got)); diff != "" {
			t.Fatalf("run %d: Reset (-builder +state):\n%s", run, diff)
		}
		for step := range steps {
			batch := 1 + w.r.IntN(3)
			var did []string
			for range batch {
				o, del := w.mutate()
				switch {
				case o != nil:
					k := w.put(o)
					s.Set(objectOf(o), time.Time{})
					did = append(did, fmt.Sprintf("set %v", k))
				case del != nil:
					delete(w.objs, *del)
					s.Delete(del.source(), time.Time{})
					did = append(did, fmt.Sprintf("delete %v", *del))
				}
			}
			before := s.Current()
			snap, events, delta := s.Snapshot()
			want := builderSnapshot(w.objs)
			if diff := cmp.Diff(flatten(want), flatten(snap)); diff != "" {
				t.Fatalf("run %d step %d after %v (-builder +state):\n%s", run, step, did, diff)
			}
			// Events that cancel out (a delete and a re-create) may leave
			// the snapshot as it was, but a change needs an event.
			if len(events) == 0 && !cmp.Equal(flatten(before), flatten(snap)) {
				t.Fatalf("run %d step %d after %v: the snapshot changed without an event", run, step, did)
			}
			if len(events) == 0 && !delta.IsEmpty() {
				t.Fatalf("run %d step %d: delta without events", run, step)
			}
			checkDelta(t, before, snap, delta)
		}
	}
}

// checkDelta checks that the endpoints the delta names are the ones that
// differ between the snapshots.
func checkDelta(t *testing.T, before, after *model.Snapshot, d Delta) {
	t.Helper()
	index := func(s *model.Snapshot) map[string]string {
		m := map[string]string{}
		for _, e := range s.Endpoints {
			m[e.ID()] = fmt.Sprintf("%v %v %v %v", labels(e.Labels), e.IPs, e.Ports, e.HostNetwork)
		}
		return m
	}
	a, b := index(before), index(after)
	differ := map[string]bool{}
	for id, v := range a {
		if b[id] != v {
			differ[id] = true
		}
	}
	for id, v := range b {
		if a[id] != v {
			differ[id] = true
		}
	}
	named := map[string]bool{}
	for _, c := range d.Endpoints {
		for _, e := range []*model.Endpoint{c.Old, c.New} {
			if e != nil {
				named[e.ID()] = true
			}
		}
	}
	for id := range differ {
		if !named[id] {
			t.Errorf("endpoint %s changed but the delta does not name it", id)
		}
	}
}

func objectOf(o k8sruntime.Object) Object {
	k := keyOf(o)
	return Object{Obj: o, Source: k.source()}
}

func TestStateEvents(t *testing.T) {
	w := &world{r: rand.New(rand.NewPCG(1, 2)), objs: map[key]k8sruntime.Object{}}
	s := NewState()
	ns := w.namespace("shop")
	d := w.deployment("shop", "web")
	s.Reset([]Object{objectOf(ns), objectOf(d)})

	rs := w.replicaSet(d, "web-1")
	s.Set(objectOf(rs), time.Time{})
	pod := w.pod("shop", "web-1-x", &metav1.OwnerReference{Kind: "ReplicaSet", Name: "web-1", UID: rs.UID})
	pod.Labels = map[string]string{"app": "web"}
	s.Set(objectOf(pod), time.Time{})
	_, events, _ := s.Snapshot()
	var got []string
	for _, e := range events {
		got = append(got, fmt.Sprintf("%s %v", e, e.Endpoints))
	}
	want := []string{
		"replicaset shop/web-1 added [shop/web-1[ReplicaSet] shop/web[Deployment]]",
		"pod shop/web-1-x added [shop/web-1-x shop/web-1[ReplicaSet]]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// A status heartbeat changes nothing.
	p2 := pod.DeepCopy()
	p2.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if s.Set(objectOf(p2), time.Time{}) {
		t.Error("a status condition counted as a model change")
	}
	p3 := p2.DeepCopy()
	p3.Labels = map[string]string{"app": "api", "tier": "1"}
	p3.Status.PodIP = "10.9.9.9"
	s.Set(objectOf(p3), time.Time{})
	ns2 := ns.DeepCopy()
	ns2.Labels = map[string]string{"env": "x"}
	s.Set(objectOf(ns2), time.Time{})
	s.Delete(model.Source{Kind: "Pod", Namespace: "shop", Name: "web-1-x"}, time.Time{})
	_, events, delta := s.Snapshot()
	got = nil
	for _, e := range events {
		got = append(got, e.String())
	}
	want = []string{
		"pod shop/web-1-x updated (labels app=web->api +tier=1, IPs " + pod.Status.PodIP + " -> 10.9.9.9)",
		"namespace shop updated (labels env=" + ns.Labels["env"] + "->x)",
		"pod shop/web-1-x deleted",
	}
	if ns.Labels["env"] == "x" {
		want[1] = "namespace shop updated"
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if len(delta.Namespaces) != 1 || len(delta.Endpoints) != 3 {
		t.Errorf("delta: %d namespaces, %d endpoints; want 1 and 3 (pod updated, pod deleted, replica set back)", len(delta.Namespaces), len(delta.Endpoints))
	}
}

// BenchmarkStateEvent measures one pod event on a 10k-pod state: the
// object's modelling and the patched snapshot.
func BenchmarkStateEvent(b *testing.B) {
	c := synth.Generate(synth.Config{Pods: 10000, Policies: 2000, Seed: 1})
	var objs []Object
	for _, o := range c.Objects() {
		acc, _ := meta.Accessor(o)
		kind := fmt.Sprintf("%T", o)
		kind = kind[strings.LastIndex(kind, ".")+1:]
		objs = append(objs, Object{Obj: o, Source: model.Source{Kind: kind, Namespace: acc.GetNamespace(), Name: acc.GetName()}})
	}
	s := NewState()
	s.Reset(objs)
	pod := c.Pods[0].DeepCopy()
	pod.Name = "bench-extra"
	src := model.Source{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name}
	b.ReportAllocs()
	for b.Loop() {
		s.Set(Object{Obj: pod, Source: src}, time.Time{})
		s.Snapshot()
		s.Delete(src, time.Time{})
		s.Snapshot()
	}
}
