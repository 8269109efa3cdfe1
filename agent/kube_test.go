package agent

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/kube"
	"github.com/bulkhead/bulkhead/model"
)

func TestFromKube(t *testing.T) {
	snap := &model.Snapshot{}
	web := &model.Endpoint{Kind: model.EndpointPod, Namespace: "shop", Name: "web"}
	pol := &model.Policy{Kind: "NetworkPolicy", Namespace: "shop", Name: "deny"}
	ev := func(kind, name string, op kube.Op) kube.Event {
		return kube.Event{Op: op, Object: model.Source{Kind: kind, Namespace: "shop", Name: name}}
	}
	tests := []struct {
		name string
		in   kube.Update
		want Update
	}{
		{"initial", kube.Update{Snapshot: snap, Initial: true}, Update{Snapshot: snap, Cause: "cluster read"}},
		{"resync", kube.Update{Snapshot: snap, Resync: true}, Update{Snapshot: snap, Resync: true, Cause: "periodic resync", Delta: &Delta{}}},
		{"changes", kube.Update{Snapshot: snap,
			Events: []kube.Event{ev("Pod", "web", kube.Added), ev("NetworkPolicy", "deny", kube.Deleted), ev("Pod", "a", kube.Updated), ev("Pod", "b", kube.Updated)},
			Delta:  kube.Delta{Endpoints: []kube.EndpointChange{{New: web}}, Policies: []kube.PolicyChange{{Old: pol}}}},
			Update{Snapshot: snap, Cause: "pod shop/web added; networkpolicy shop/deny deleted; pod shop/a updated; and 1 more",
				Delta: &Delta{Endpoints: []EndpointChange{{New: web}}, Policies: []PolicyChange{{Old: pol}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			same := cmp.Options{
				cmp.Comparer(func(a, b *model.Snapshot) bool { return a == b }),
				cmp.Comparer(func(a, b *model.Endpoint) bool { return a == b }),
				cmp.Comparer(func(a, b *model.Policy) bool { return a == b }),
			}
			if diff := cmp.Diff(tt.want, fromKube(tt.in), same); diff != "" {
				t.Errorf("fromKube (-want +got):\n%s", diff)
			}
		})
	}
}
