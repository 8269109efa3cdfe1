package agent_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/agent"
	"github.com/bulkhead/bulkhead/dataplane"
	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

// clusterYAML is a namespace with a default deny, a web pod reachable on
// its named port from client pods, and pods on two nodes. extra is
// appended.
func clusterYAML(extra string) string {
	return `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {kubernetes.io/metadata.name: shop}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client, namespace: shop}
spec:
  podSelector: {matchLabels: {app: client}}
  egress:
  - to: [{podSelector: {matchLabels: {app: web}}}]
` + pods(podSpec{"web-1", "web", "node-1", "10.0.0.1"}, podSpec{"client-1", "client", "node-1", "10.0.0.2"}, podSpec{"client-2", "client", "node-2", "10.0.0.3"}) + extra
}

type podSpec struct{ name, app, node, ip string }

func pods(ps ...podSpec) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: shop, labels: {app: %s}}
spec:
  nodeName: %s
  containers: [{name: main, image: x, ports: [{name: http, containerPort: 8080}]}]
status: {podIP: %s}
`, p.name, p.app, p.node, p.ip)
	}
	return b.String()
}

func snapshot(t *testing.T, yaml string) *model.Snapshot {
	t.Helper()
	return manifest.LoadBytes("cluster.yaml", []byte(yaml), manifest.Options{}).Snapshot
}

// want compiles snap's ruleset for node as the agent should.
func want(t *testing.T, snap *model.Snapshot, node string) string {
	t.Helper()
	e := eval.New(snap, eval.Options{})
	var local []*model.Endpoint
	for _, ep := range e.Endpoints() {
		if ep.Kind == model.EndpointPod && ep.NodeName == node {
			local = append(local, ep)
		}
	}
	rs, err := compile.Node(e, local, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return nft.Render(rs)
}

type fixture struct {
	t     *testing.T
	fake  *dataplane.Fake
	agent *agent.Agent
	logs  *testutil.SyncBuffer
}

func newFixture(t *testing.T, src agent.Source) *fixture {
	t.Helper()
	f := &fixture{t: t, fake: dataplane.NewFake(""), logs: &testutil.SyncBuffer{}}
	var err error
	f.agent, err = agent.New(agent.Config{NodeName: "node-1", Source: src, Applier: f.fake,
		Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) errors(stage string) float64 {
	return metric(f.t, f.agent.Metrics(), "bulkhead_agent_sync_errors_total", "stage", stage)
}

// metric returns the value of a gauge or counter (with the label, if
// given), or a histogram's count, from m's registry.
func metric(t *testing.T, m *agent.Metrics, name string, label ...string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, mt := range mf.GetMetric() {
			for i := 0; i+1 < len(label); i += 2 {
				found := false
				for _, lp := range mt.GetLabel() {
					if lp.GetName() == label[i] && lp.GetValue() == label[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case mt.Gauge != nil:
				return mt.GetGauge().GetValue()
			case mt.Counter != nil:
				return mt.GetCounter().GetValue()
			case mt.Histogram != nil:
				return float64(mt.GetHistogram().GetSampleCount())
			}
		}
	}
	t.Fatalf("no metric %s %v", name, label)
	return 0
}

func TestSyncAppliesTheNodesRuleset(t *testing.T) {
	f := newFixture(t, nil)
	snap := snapshot(t, clusterYAML(""))
	if err := f.agent.Sync(context.Background(), agent.Update{Snapshot: snap, Cause: "start"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want(t, snap, "node-1"), f.fake.Dump()); diff != "" {
		t.Errorf("kernel table (-want +got):\n%s", diff)
	}
	logs := f.logs.Take()
	for _, s := range []string{`msg="ruleset applied" cause=start`, "local_pods=2", `msg="chain added"`, "policies=\"NetworkPolicy shop/default-deny; NetworkPolicy shop/web\"", "pods=shop/web-1"} {
		if !strings.Contains(logs, s) {
			t.Errorf("log lacks %q:\n%s", s, logs)
		}
	}
	m := f.agent.Metrics()
	for _, tt := range []struct {
		name string
		want float64
	}{
		{"bulkhead_agent_local_pods", 2},
		{"bulkhead_agent_syncs_total", 1},
		{"bulkhead_agent_sync_duration_seconds", 1},
		{"bulkhead_agent_ruleset_chains", float64(len(f.fake.Deltas()[0].Replace.Chains))},
	} {
		if got := metric(t, m, tt.name); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := metric(t, m, "bulkhead_agent_last_successful_sync_timestamp_seconds"); got < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last successful sync = %v, want about now", got)
	}
	select {
	case <-f.agent.Synced():
	default:
		t.Error("Synced not closed after a successful sync")
	}
}

// TestSyncFailsClosed checks that a refused transaction keeps the ruleset
// in force and is counted, and that the retry converges.
func TestSyncFailsClosed(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	first := snapshot(t, clusterYAML(""))
	if err := f.agent.Sync(ctx, agent.Update{Snapshot: first}); err != nil {
		t.Fatal(err)
	}
	before := f.fake.Dump()
	second := snapshot(t, clusterYAML(pods(podSpec{"web-2", "web", "node-1", "10.0.0.9"})))
	f.fake.FailNext(errors.New("netlink: no buffer space"))
	if err := f.agent.Sync(ctx, agent.Update{Snapshot: second}); err == nil {
		t.Fatal("Sync succeeded with a failing dataplane")
	}
	if got := f.fake.Dump(); got != before {
		t.Errorf("a failed sync changed the table:\n%s", got)
	}
	if got := f.errors(agent.StageApply); got != 1 {
		t.Errorf("apply errors = %v, want 1", got)
	}
	if logs := f.logs.Take(); !strings.Contains(logs, "previous one stays in force") || !strings.Contains(logs, "no buffer space") {
		t.Errorf("log does not report the failure:\n%s", logs)
	}
	if err := f.agent.Sync(ctx, agent.Update{Snapshot: second, Resync: true}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want(t, second, "node-1"), f.fake.Dump()); diff != "" {
		t.Errorf("after the retry (-want +got):\n%s", diff)
	}
}

func TestSyncRefusesBadState(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	good := snapshot(t, clusterYAML(""))
	if err := f.agent.Sync(ctx, agent.Update{Snapshot: good}); err != nil {
		t.Fatal(err)
	}
	before := f.fake.Dump()
	bad := snapshot(t, clusterYAML(`---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: broken, namespace: shop}
spec: {podSelector: {}, ingress: [{ports: [{port: 70000}]}]}
`))
	if len(bad.Problems) == 0 {
		t.Fatal("the broken policy has no problem")
	}
	for _, u := range []agent.Update{{Snapshot: bad}, {Err: errors.New("open cluster.yaml: permission denied")}} {
		if err := f.agent.Sync(ctx, u); err != nil {
			t.Fatalf("Sync: %v (a bad state is not retried until it changes)", err)
		}
		if got := f.fake.Dump(); got != before {
			t.Errorf("a bad state changed the table:\n%s", got)
		}
	}
	if got := f.errors(agent.StageSource); got != 2 {
		t.Errorf("source errors = %v, want 2", got)
	}
	if logs := f.logs.Take(); !strings.Contains(logs, "spec.ingress[0].ports[0]") || !strings.Contains(logs, "permission denied") {
		t.Errorf("log does not name the problems:\n%s", logs)
	}
}

// TestSyncRepairsDrift deletes the table behind the agent's back: a resync
// notices and restores it.
func TestSyncRepairsDrift(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	snap := snapshot(t, clusterYAML(""))
	if err := f.agent.Sync(ctx, agent.Update{Snapshot: snap}); err != nil {
		t.Fatal(err)
	}
	f.fake.Tamper(func(*nft.Ruleset) *nft.Ruleset { return nil })
	if err := f.agent.Sync(ctx, agent.Update{Snapshot: snap, Resync: true}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want(t, snap, "node-1"), f.fake.Dump()); diff != "" {
		t.Errorf("after the resync (-want +got):\n%s", diff)
	}
	if got := metric(t, f.agent.Metrics(), "bulkhead_agent_drift_repairs_total"); got != 1 {
		t.Errorf("drift repairs = %v, want 1", got)
	}
}

// TestSyncIncremental hands the agent deltas, as a live source does, and
// compares with compiling each state from scratch.
func TestSyncIncremental(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	s0 := snapshot(t, clusterYAML(""))
	if err := f.agent.Sync(ctx, agent.Update{Snapshot: s0}); err != nil {
		t.Fatal(err)
	}
	f.logs.Take()
	s1 := snapshot(t, clusterYAML(pods(podSpec{"client-3", "client", "node-1", "10.0.0.4"})))
	var added *model.Endpoint
	for _, ep := range s1.Endpoints {
		if ep.Name == "client-3" {
			added = ep
		}
	}
	if err := f.agent.Sync(ctx, agent.Update{Snapshot: s1, Delta: &agent.Delta{Endpoints: []agent.EndpointChange{{New: added}}}, Cause: "pod shop/client-3 added"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want(t, s1, "node-1"), f.fake.Dump()); diff != "" {
		t.Errorf("after a pod add (-want +got):\n%s", diff)
	}
	logs := f.logs.Take()
	for _, s := range []string{`msg="ruleset updated" cause="pod shop/client-3 added"`, "chains_added=0", "elements_added=", `msg="pods changed chain"`, "joined=shop/client-3"} {
		if !strings.Contains(logs, s) {
			t.Errorf("log lacks %q:\n%s", s, logs)
		}
	}
	d := f.fake.Deltas()
	if last := d[len(d)-1]; last.Replace != nil || len(last.ReplaceChains)+len(last.AddChains) > 0 {
		t.Errorf("a pod add was not an element-only transaction:\n%s", nft.RenderDelta(last))
	}
}

// TestManifestSource runs the manifest source on a directory and edits it.
func TestManifestSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(path, []byte(clusterYAML("")), 0o644); err != nil {
		t.Fatal(err)
	}
	got := make(chan agent.Update, 10)
	src := &agent.ManifestSource{Paths: []string{dir}, PollInterval: 20 * time.Millisecond, Resync: -1}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- src.Run(ctx, func(_ context.Context, u agent.Update) error {
			got <- u
			return nil
		})
	}()
	next := func() agent.Update {
		t.Helper()
		select {
		case u := <-got:
			return u
		case <-time.After(5 * time.Second):
			t.Fatal("no update")
		}
		return agent.Update{}
	}
	if u := next(); u.Snapshot == nil || len(u.Snapshot.Endpoints) != 3 || !strings.HasPrefix(u.Cause, "start") {
		t.Fatalf("first update: %+v", u)
	}
	// A later modification time, as an editor's save gives.
	if err := os.WriteFile(path, []byte(clusterYAML(pods(podSpec{"web-2", "web", "node-1", "10.0.0.9"}))), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	if u := next(); u.Snapshot == nil || len(u.Snapshot.Endpoints) != 4 || !strings.HasPrefix(u.Cause, "manifests changed") {
		t.Fatalf("after an edit: %+v", u)
	}
	// An emptied directory (a ConfigMap volume mid-swap, a lost mount) is
	// an error that keeps the last state, never an empty cluster.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if u := next(); u.Err == nil || !strings.Contains(u.Err.Error(), "no Kubernetes objects in "+dir) {
		t.Fatalf("after emptying the directory: %+v, want an error naming it", u)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if u := next(); u.Err == nil {
		t.Fatalf("after removing the directory: %+v, want an error", u)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestManifestSourceRetries checks that a failed apply is retried with
// the same state.
func TestManifestSourceRetries(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(clusterYAML("")), 0o644); err != nil {
		t.Fatal(err)
	}
	src := &agent.ManifestSource{Paths: []string{dir}, PollInterval: 5 * time.Millisecond, Resync: -1,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var calls []agent.Update
	_ = src.Run(ctx, func(_ context.Context, u agent.Update) error {
		calls = append(calls, u)
		if len(calls) < 3 {
			return errors.New("kernel said no")
		}
		cancel()
		return nil
	})
	if len(calls) != 3 {
		t.Fatalf("apply called %d times, want 3", len(calls))
	}
	if calls[0].Resync || !calls[1].Resync || calls[1].Snapshot != calls[0].Snapshot || calls[2].Snapshot != calls[0].Snapshot {
		t.Errorf("retries should hand the same state with Resync set: %+v", calls)
	}
}
