package synthtest_test

import (
	"testing"

	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/synth/synthtest"
	"github.com/bulkhead/bulkhead/model"
)

// TestLoad checks that the model holds what synth generated, object for
// object, and that the same configuration gives the same model.
func TestLoad(t *testing.T) {
	cfg := synth.Config{Pods: 200, Policies: 40, AdminPolicies: 3, Seed: 5}
	c := synth.Generate(cfg)
	snap, objs := synthtest.Load(t, cfg)
	if len(objs) != len(c.Objects()) {
		t.Errorf("%d objects, generated %d", len(objs), len(c.Objects()))
	}
	pods := 0
	for _, ep := range snap.Endpoints {
		if ep.Kind == model.EndpointPod {
			pods++
		}
	}
	if pods != len(c.Pods) || len(snap.Namespaces) != len(c.Namespaces) || len(snap.Policies) < len(c.Policies)+len(c.Cluster) {
		t.Errorf("modelled %d pods, %d namespaces, %d policies; generated %d, %d, %d+%d",
			pods, len(snap.Namespaces), len(snap.Policies), len(c.Pods), len(c.Namespaces), len(c.Policies), len(c.Cluster))
	}
	if again := synthtest.Snapshot(t, cfg); len(again.Endpoints) != len(snap.Endpoints) || len(again.Policies) != len(snap.Policies) {
		t.Error("the same configuration modelled differently")
	}
}
