package manifest

import (
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/model"
	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func pod(ns, name string, labels map[string]string, owners ...metav1.OwnerReference) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, OwnerReferences: owners}}
}

func deployment(ns, name, uid string) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}}
	d.Spec.Template.Labels = map[string]string{"app": name}
	return d
}

func replicaSet(ns, name, uid string, owner metav1.OwnerReference) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), OwnerReferences: []metav1.OwnerReference{owner}}}
	rs.Spec.Template.Labels = map[string]string{"app": name}
	return rs
}

func ids(eps []*model.Endpoint) []string {
	var out []string
	for _, e := range eps {
		out = append(out, e.ID())
	}
	return out
}

// TestBuilderLiveObjects feeds the Builder typed objects as the
// live-cluster source will: no files, sources filled in from the objects.
func TestBuilderLiveObjects(t *testing.T) {
	b := NewBuilder(Options{DefaultNamespace: "team"})
	b.Add(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ignored"}}, model.Source{})
	b.Add(pod("shop", "web", map[string]string{"app": "web"}), model.Source{})
	b.Add(pod("", "nons", nil), model.Source{})
	b.Add(&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "deny"}}, model.Source{})
	b.Add(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "svc"}}, model.Source{})
	b.Add(nil, model.Source{Kind: "Pod", Name: "nil"})
	b.Add((*corev1.Pod)(nil), model.Source{Kind: "Pod", Name: "typed-nil"})
	b.AddSkipped(model.Source{Kind: "Secret", Namespace: "vault", Name: "s"}, "kind not modelled")
	s := b.Snapshot()

	if diff := cmp.Diff([]string{"shop/web", "team/nons"}, ids(s.Endpoints)); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"shop", "team", "vault"}, s.NamespaceNames()); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}
	if !s.Namespaces["shop"].Declared || s.Namespaces["team"].Declared || s.Namespaces["vault"].Declared {
		t.Errorf("declared: shop %v team %v vault %v", s.Namespaces["shop"].Declared, s.Namespaces["team"].Declared, s.Namespaces["vault"].Declared)
	}
	wantSrc := model.Source{Kind: "Pod", Namespace: "team", Name: "nons"}
	if diff := cmp.Diff(wantSrc, s.Endpoints[1].Source); diff != "" {
		t.Errorf("source filled from the object (-want +got):\n%s", diff)
	}
	if len(s.Policies) != 1 || s.Policies[0].Ref() != "NetworkPolicy shop/deny" {
		t.Errorf("policies: %v", s.Policies)
	}
	if diff := cmp.Diff(map[string]int{"Service": 1, "Secret": 1}, s.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if len(s.Problems) != 2 || !strings.Contains(s.Problems[0].Msg, "nil") || !strings.Contains(s.Problems[1].Msg, "nil") {
		t.Errorf("want two nil-object problems, got %v", s.Problems)
	}
	// Add fixes up the objects it keeps, as the API server shows them.
	objs := b.Objects()
	if got := objs[0].Obj.(*corev1.Namespace); got.Namespace != "" || got.Kind != "Namespace" || got.APIVersion != "v1" {
		t.Errorf("namespace object: namespace %q, TypeMeta %+v", got.Namespace, got.TypeMeta)
	}
	if got := objs[2].Obj.(*corev1.Pod); got.Namespace != "team" {
		t.Errorf("pod without namespace: got namespace %q, want team", got.Namespace)
	}
}

func TestBuilderDuplicates(t *testing.T) {
	b := NewBuilder(Options{})
	b.Add(pod("shop", "web", map[string]string{"v": "1"}), model.Source{File: "a.yaml", Line: 1})
	b.Add(pod("shop", "web", map[string]string{"v": "2"}), model.Source{File: "b.yaml", Line: 7})
	// Same name, other kind or namespace: no duplicate.
	b.Add(deployment("shop", "web", ""), model.Source{File: "b.yaml", Line: 20})
	b.Add(pod("other", "web", nil), model.Source{File: "b.yaml", Line: 30})
	s := b.Snapshot()
	if diff := cmp.Diff([]string{"other/web", "shop/web", "shop/web[Deployment]"}, ids(s.Endpoints)); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
	if s.Endpoints[1].Labels["v"] != "1" {
		t.Errorf("the first object is kept, got labels %v", s.Endpoints[1].Labels)
	}
	want := []model.Problem{{
		Source:   model.Source{File: "b.yaml", Line: 7, Kind: "Pod", Namespace: "shop", Name: "web"},
		Severity: model.SeverityError,
		Msg:      "duplicate object: pod shop/web is also defined at a.yaml:1; the first one is kept",
	}}
	if diff := cmp.Diff(want, s.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestBuilderOwnership(t *testing.T) {
	ref := func(kind, name, uid string) metav1.OwnerReference {
		return metav1.OwnerReference{Kind: kind, Name: name, UID: types.UID(uid)}
	}
	tests := []struct {
		name string
		objs []any
		want []string // endpoint IDs
	}{
		{
			name: "deployment, replicaset and pod: only the pod",
			objs: []any{
				deployment("ns", "web", "d1"),
				replicaSet("ns", "web-1", "r1", ref("Deployment", "web", "d1")),
				pod("ns", "web-1-a", nil, ref("ReplicaSet", "web-1", "r1")),
			},
			want: []string{"ns/web-1-a"},
		},
		{
			name: "deployment and replicaset: the replicaset",
			objs: []any{
				deployment("ns", "web", "d1"),
				replicaSet("ns", "web-1", "r1", ref("Deployment", "web", "d1")),
			},
			want: []string{"ns/web-1[ReplicaSet]"},
		},
		{
			name: "uids differ: a stale reference does not hide the workload",
			objs: []any{
				deployment("ns", "web", "d2"),
				replicaSet("ns", "web-1", "r1", ref("Deployment", "web", "d1")),
			},
			want: []string{"ns/web-1[ReplicaSet]", "ns/web[Deployment]"},
		},
		{
			name: "no uid on the reference: kind and name match",
			objs: []any{
				deployment("ns", "web", "d2"),
				replicaSet("ns", "web-1", "r1", ref("Deployment", "web", "")),
			},
			want: []string{"ns/web-1[ReplicaSet]"},
		},
		{
			name: "no uid on the workload: kind and name match",
			objs: []any{
				deployment("ns", "web", ""),
				replicaSet("ns", "web-1", "r1", ref("Deployment", "web", "d1")),
			},
			want: []string{"ns/web-1[ReplicaSet]"},
		},
		{
			name: "other namespace or kind: no match",
			objs: []any{
				deployment("ns", "web", ""),
				pod("other", "p", nil, ref("Deployment", "web", "")),
				pod("ns", "q", nil, ref("StatefulSet", "web", "")),
			},
			want: []string{"ns/q", "ns/web[Deployment]", "other/p"},
		},
		{
			name: "uid match across names is still a match",
			objs: []any{
				deployment("ns", "web", "d1"),
				pod("ns", "p", nil, ref("Deployment", "renamed", "d1")),
			},
			want: []string{"ns/p"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(Options{})
			for _, o := range tt.objs {
				switch o := o.(type) {
				case *corev1.Pod:
					b.Add(o, model.Source{})
				case *appsv1.Deployment:
					b.Add(o, model.Source{})
				case *appsv1.ReplicaSet:
					b.Add(o, model.Source{})
				}
			}
			s := b.Snapshot()
			if diff := cmp.Diff(tt.want, ids(s.Endpoints)); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
			if len(s.Problems) > 0 {
				t.Errorf("problems: %v", s.Problems)
			}
			// Every workload not modelled is in the skipped list.
			n := 0
			for _, sk := range b.Skipped() {
				if strings.HasPrefix(sk.Reason, "represented by") {
					n++
				}
			}
			if want := len(tt.objs) - len(tt.want); n != want {
				t.Errorf("%d workloads skipped as represented, want %d: %v", n, want, b.Skipped())
			}
		})
	}
}

// TestBuilderSnapshotTwice checks that Snapshot models afresh each time.
func TestBuilderSnapshotTwice(t *testing.T) {
	b := NewBuilder(Options{})
	b.Add(deployment("ns", "web", "d1"), model.Source{})
	b.Add(pod("ns", "p", nil, metav1.OwnerReference{Kind: "Deployment", Name: "web"}), model.Source{})
	first := b.Snapshot()
	second := b.Snapshot()
	if diff := cmp.Diff(first.SkippedObjects, second.SkippedObjects); diff != "" {
		t.Errorf("second snapshot differs (-first +second):\n%s", diff)
	}
	if len(b.Skipped()) != 1 {
		t.Errorf("skipped: %v", b.Skipped())
	}
	b.Add(pod("ns", "q", nil), model.Source{})
	if got := len(b.Snapshot().Endpoints); got != 2 {
		t.Errorf("after another Add: %d endpoints, want 2", got)
	}
}
