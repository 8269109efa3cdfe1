package kube_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/internal/kubetest"
	"github.com/bulkhead/bulkhead/kube"
	"github.com/bulkhead/bulkhead/kube/livetest"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// TestMain shares one API server between the package's live tests.
func TestMain(m *testing.M) { kubetest.Main(m) }

const fixture = "testdata/cluster"

// view is a snapshot reduced to comparable text, without file and line
// (a cluster has none).
type view struct {
	Namespaces, Endpoints, Nodes, Policies, Skipped, Problems []string
}

func viewOf(s *model.Snapshot, keepNS func(string) bool) view {
	var v view
	src := func(x model.Source) string { return x.Object() }
	for _, n := range s.NamespaceNames() {
		if !keepNS(n) {
			continue
		}
		ns := s.Namespaces[n]
		v.Namespaces = append(v.Namespaces, fmt.Sprintf("%s declared=%v %v", n, ns.Declared, ns.Labels))
	}
	for _, e := range s.Endpoints {
		if !keepNS(e.Namespace) {
			continue
		}
		v.Endpoints = append(v.Endpoints, fmt.Sprintf("%s %v ips=%v ports=%v host=%v node=%s %s", e.ID(), e.Labels, e.IPs, e.Ports, e.HostNetwork, e.NodeName, src(e.Source)))
	}
	for _, n := range s.Nodes {
		if strings.HasPrefix(n.Name, "lt-") {
			v.Nodes = append(v.Nodes, fmt.Sprintf("%s %v %v", n.Name, n.Labels, n.IPs))
		}
	}
	// Policies and skipped objects come in input order, which is file
	// order for manifests and kind order for a cluster; the engine orders
	// policies itself.
	for _, p := range s.Policies {
		if p.Namespace != "" && !keepNS(p.Namespace) || p.Namespace == "" && !strings.HasPrefix(p.Name, "lt-") && p.Name != "default" {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s/%s tier=%s prio=%d in=%v eg=%v rules=%d subject=%s", p.Ref(), p.APIVersion, p.Kind, p.Tier, p.Priority, p.IngressIsolation, p.EgressIsolation, len(p.Rules), p.Subject)
		for _, r := range p.Rules {
			fmt.Fprintf(&b, "\n  %s %s all=%v peers=%v ports=%v", r.Ref(), r.Action, r.AllPeers, r.Peers, r.Ports)
		}
		v.Policies = append(v.Policies, b.String())
	}
	slices.Sort(v.Policies)
	for _, o := range s.SkippedObjects {
		if keepNS(o.Namespace) {
			v.Skipped = append(v.Skipped, src(o))
		}
	}
	slices.Sort(v.Skipped)
	for _, p := range s.Problems {
		v.Problems = append(v.Problems, p.Error())
	}
	return v
}

func ltOnly(ns string) bool { return strings.HasPrefix(ns, "lt-") }

// TestReadMatchesManifests applies the fixture to the API server and
// checks that reading the cluster gives the model that the same objects
// give as manifests: the fixture as `kubectl get -o yaml` would print it
// (with the uids the server gave).
func TestReadMatchesManifests(t *testing.T) {
	env := kubetest.Shared(t)
	applied := livetest.Apply(t, env, livetest.KeepNamespaces, fixture)
	asYAML := filepath.Join(t.TempDir(), "cluster.yaml")
	livetest.WriteYAML(t, asYAML, applied)
	want, err := manifest.Load([]string{asYAML}, nil, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}

	var progress bytes.Buffer
	res, err := kube.ForConfig(env.Config()).Read(context.Background(), kube.Options{Progress: &progress, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(viewOf(want.Snapshot, ltOnly), viewOf(res.Snapshot, ltOnly)); diff != "" {
		t.Errorf("cluster and manifests model differently (-manifests +cluster):\n%s", diff)
	}
	for _, e := range res.Snapshot.Endpoints {
		if e.Source.File != "" || e.Source.Line != 0 {
			t.Errorf("%s: source %q, want no file for a cluster", e.ID(), e.Source.Location())
		}
	}
	wantServed := []string{
		"adminnetworkpolicies.policy.networking.k8s.io/v1alpha1",
		"baselineadminnetworkpolicies.policy.networking.k8s.io/v1alpha1",
		"clusternetworkpolicies.policy.networking.k8s.io/v1beta1",
	}
	if diff := cmp.Diff(wantServed, res.Served); diff != "" || len(res.Missing) > 0 {
		t.Errorf("served (-want +got):\n%s\nmissing: %v", diff, res.Missing)
	}
	// The namespaces the server makes are modelled too.
	if ns := res.Snapshot.Namespace("kube-system"); ns == nil || !ns.Declared {
		t.Errorf("kube-system: %+v", ns)
	}
	// Every object comes back, in rank order.
	var kinds []string
	for _, o := range res.Objects {
		if ltOnly(o.Source.Namespace) && (len(kinds) == 0 || kinds[len(kinds)-1] != o.Source.Kind) {
			kinds = append(kinds, o.Source.Kind)
		}
	}
	wantKinds := []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "CronJob", "NetworkPolicy"}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("object kinds in order (-want +got):\n%s", diff)
	}
}

// TestReadProgress checks the progress line on a slow read (every page
// one object).
func TestReadProgress(t *testing.T) {
	env := kubetest.Shared(t)
	ns := env.Namespace(t, nil)
	for i := range 30 {
		env.Apply(t, ns, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\nspec: {containers: [{name: c, image: x}]}\n", i))
	}
	var buf bytes.Buffer
	_, err := kube.ForConfig(env.Config()).Read(context.Background(), kube.ProgressForTest(&buf, 1, time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "reading cluster: ") || !strings.Contains(out, "reading cluster: done: ") || !strings.Contains(out, " pods") {
		t.Errorf("progress output:\n%s", out)
	}
}

// TestReadAccess reads as a user RBAC grants nothing, then only part of
// what bulkhead needs, then the documented ClusterRole.
func TestReadAccess(t *testing.T) {
	env := kubetest.Shared(t)
	user := "alice-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	cfg := env.UserConfig(t, user)
	read := func() error {
		_, err := kube.ForConfig(cfg).Read(context.Background(), kube.Options{})
		return err
	}

	err := read()
	var ae *kube.AccessError
	if !errors.As(err, &ae) {
		t.Fatalf("no RBAC: got %v, want an AccessError", err)
	}
	if ae.Verb != "list" || ae.Resource != "namespaces" || ae.Namespace != "" || ae.Unauthorized {
		t.Errorf("no RBAC: %+v", ae)
	}
	for _, want := range []string{`cannot list namespaces in every namespace`, `verb "list" on resource "namespaces" cluster-wide`, user} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message does not say %q: %v", want, err)
		}
	}

	// Everything but NetworkPolicies.
	partial := strings.Replace(kube.ReaderClusterRole, "- networkpolicies\n", "- networkpolicies-not\n", 1)
	if partial == kube.ReaderClusterRole {
		t.Fatal("ReaderClusterRole does not list networkpolicies on a line of its own")
	}
	name := "bulkhead-reader-" + user
	bind := func(role string) {
		env.Apply(t, "", strings.ReplaceAll(role, "name: bulkhead-reader", "name: "+name)+"\n---\n"+binding(name, user))
	}
	bind(partial)
	err = read()
	if !errors.As(err, &ae) || ae.Resource != "networkpolicies.networking.k8s.io" {
		t.Fatalf("without networkpolicies: got %v, want an AccessError on networkpolicies.networking.k8s.io", err)
	}

	bind(kube.ReaderClusterRole)
	if err := read(); err != nil {
		t.Fatalf("with the documented ClusterRole: %v", err)
	}
	doc, err := os.ReadFile("../docs/live.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), kube.ReaderClusterRole) {
		t.Error("docs/live.md does not show kube.ReaderClusterRole as it is")
	}

	// A token the server does not know is refused as unauthorized.
	bad := rest.CopyConfig(cfg)
	bad.CertData, bad.KeyData, bad.BearerToken = nil, nil, "not-a-token"
	_, err = kube.ForConfig(bad).Read(context.Background(), kube.Options{})
	if !errors.As(err, &ae) || !ae.Unauthorized || !strings.Contains(err.Error(), "401 Unauthorized") {
		t.Errorf("unknown token: got %v, want an unauthorized AccessError", err)
	}
}

func binding(name, user string) string {
	return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: %s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: %s}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: %s}]
`, name, name, user)
}

func TestReadUnreachable(t *testing.T) {
	env := kubetest.Shared(t)
	cfg := env.Config()
	cfg.Host = "https://127.0.0.1:1" // nothing listens there
	_, err := kube.ForConfig(cfg).Read(context.Background(), kube.Options{})
	var ue *kube.UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "cannot reach the API server") {
		t.Errorf("got %v, want an UnreachableError", err)
	}
}

// TestConnect loads the harness's kubeconfig as kubectl would.
func TestConnect(t *testing.T) {
	env := kubetest.Shared(t)
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")

	c, err := kube.Config{Kubeconfig: env.Kubeconfig}.Connect()
	if err != nil {
		t.Fatal(err)
	}
	if c.Context != kubetest.ContextName || c.REST.Host != env.Host || c.InCluster {
		t.Errorf("got context %q host %q in-cluster %v", c.Context, c.REST.Host, c.InCluster)
	}
	if !strings.Contains(c.Name(), kubetest.ContextName) {
		t.Errorf("Name() = %q", c.Name())
	}

	t.Setenv("KUBECONFIG", env.Kubeconfig)
	c, err = kube.Config{Context: kubetest.ContextName}.Connect()
	if err != nil || c.REST.Host != env.Host {
		t.Fatalf("$KUBECONFIG and --context: %v", err)
	}
	if _, err := c.Read(context.Background(), kube.Options{}); err != nil {
		t.Errorf("read through $KUBECONFIG: %v", err)
	}

	_, err = kube.Config{Context: "nope"}.Connect()
	if err == nil || !strings.Contains(err.Error(), `no context "nope"`) || !strings.Contains(err.Error(), kubetest.ContextName) {
		t.Errorf("unknown context: %v", err)
	}
	_, err = kube.Config{Kubeconfig: filepath.Join(t.TempDir(), "missing")}.Connect()
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing kubeconfig: %v", err)
	}
	t.Setenv("KUBECONFIG", "")
	_, err = kube.Config{}.Connect()
	if err == nil || !strings.Contains(err.Error(), "no cluster configured") {
		t.Errorf("no kubeconfig: %v", err)
	}
}

// collector gathers a Watcher's updates.
type collector struct {
	ch chan kube.Update
}

func (c *collector) handle(_ context.Context, u kube.Update) error {
	c.ch <- u
	return nil
}

// next waits for an update whose events satisfy ok, and returns it.
func (c *collector) next(t *testing.T, what string, ok func(kube.Update) bool) kube.Update {
	t.Helper()
	deadline := time.After(20 * time.Second)
	var seen []string
	for {
		select {
		case u := <-c.ch:
			if ok(u) {
				return u
			}
			seen = append(seen, u.String())
		case <-deadline:
			t.Fatalf("no update %s; saw:\n%s", what, strings.Join(seen, "\n"))
		}
	}
}

func hasEvent(s string) func(kube.Update) bool {
	return func(u kube.Update) bool {
		for _, e := range u.Events {
			if e.String() == s {
				return true
			}
		}
		return false
	}
}

func startWatcher(t *testing.T, cfg *rest.Config) (*kube.Watcher, *collector) {
	t.Helper()
	c := &collector{ch: make(chan kube.Update, 1000)}
	w := kube.ForConfig(cfg).Watcher(kube.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, c.handle) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watcher: %v", err)
		}
	})
	return w, c
}

// TestWatchIncremental follows object changes and checks each update's
// events and delta, and that the incrementally kept model ends equal to
// a fresh Read of the cluster.
func TestWatchIncremental(t *testing.T) {
	env := kubetest.Shared(t)
	ns := env.Namespace(t, map[string]string{"team": "w"})
	env.Apply(t, ns, `apiVersion: v1
kind: Pod
metadata: {name: a, labels: {app: a}}
spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 80}]}]}
`)
	env.SetPodIPs(t, ns, "a", "10.88.0.1")

	_, c := startWatcher(t, env.Config())
	first := c.next(t, "initial", func(u kube.Update) bool { return u.Initial })
	if findEndpoint(first.Snapshot, ns+"/a") == nil {
		t.Fatalf("initial snapshot lacks %s/a", ns)
	}

	// A new pod.
	env.Apply(t, ns, "apiVersion: v1\nkind: Pod\nmetadata: {name: b, labels: {app: b}}\nspec: {containers: [{name: c, image: x}]}\n")
	u := c.next(t, "pod b added", hasEvent("pod "+ns+"/b added"))
	if len(u.Delta.Endpoints) != 1 || u.Delta.Endpoints[0].Old != nil || u.Delta.Endpoints[0].New.ID() != ns+"/b" {
		t.Errorf("delta of pod b added: %+v", u.Delta)
	}

	// Its IP.
	env.SetPodIPs(t, ns, "b", "10.88.0.2")
	u = c.next(t, "pod b's IP", hasEvent("pod "+ns+"/b updated (IPs none -> 10.88.0.2)"))
	if ep := findEndpoint(u.Snapshot, ns+"/b"); ep == nil || len(ep.IPs) != 1 {
		t.Errorf("b after its IP: %+v", ep)
	}

	// A status change the model ignores gives no update; a label change
	// does, and is the next one.
	env.UpdatePodStatus(t, ns, "a", func(s *corev1.PodStatus) {
		s.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	})
	env.Apply(t, ns, "apiVersion: v1\nkind: Pod\nmetadata: {name: b, labels: {app: b, tier: x}}\nspec: {containers: [{name: c, image: x}]}\n")
	u = c.next(t, "any", func(kube.Update) bool { return true })
	if got := u.String(); got != "pod "+ns+"/b updated (labels +tier=x)" {
		t.Errorf("after a status condition and a label: update %q, want the label change only", got)
	}

	// A policy, then its deletion.
	cs := env.Clientset(t)
	env.Apply(t, ns, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n")
	u = c.next(t, "policy added", hasEvent("networkpolicy "+ns+"/deny added"))
	if len(u.Delta.Policies) != 1 || u.Delta.Policies[0].New == nil {
		t.Errorf("delta of a policy added: %+v", u.Delta)
	}
	if err := cs.NetworkingV1().NetworkPolicies(ns).Delete(context.Background(), "deny", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	u = c.next(t, "policy deleted", hasEvent("networkpolicy "+ns+"/deny deleted"))
	if len(u.Delta.Policies) != 1 || u.Delta.Policies[0].New != nil {
		t.Errorf("delta of a policy deleted: %+v", u.Delta)
	}

	// Namespace labels.
	nsObj, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nsObj.Labels["team"] = "v"
	if _, err := cs.CoreV1().Namespaces().Update(context.Background(), nsObj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	u = c.next(t, "namespace labels", hasEvent("namespace "+ns+" updated (labels team=w->v)"))
	if len(u.Delta.Namespaces) != 1 {
		t.Errorf("delta of namespace labels: %+v", u.Delta)
	}

	// Pod deleted.
	if err := cs.CoreV1().Pods(ns).Delete(context.Background(), "a", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	u = c.next(t, "pod a deleted", hasEvent("pod "+ns+"/a deleted"))
	if findEndpoint(u.Snapshot, ns+"/a") != nil {
		t.Errorf("%s/a still in the snapshot after its deletion", ns)
	}

	// The model kept one event at a time is the one a fresh read gives.
	res, err := kube.ForConfig(env.Config()).Read(context.Background(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	only := func(n string) bool { return n == ns }
	if diff := cmp.Diff(viewOf(res.Snapshot, only), viewOf(u.Snapshot, only)); diff != "" {
		t.Errorf("watched model differs from a fresh read (-read +watch):\n%s", diff)
	}
}

// TestWatchMatchesRead applies the fixture while a Watcher runs and checks
// that the model it builds from the events equals a fresh Read.
func TestWatchMatchesRead(t *testing.T) {
	env := kubetest.Shared(t)
	w, c := startWatcher(t, env.Config())
	c.next(t, "initial", func(u kube.Update) bool { return u.Initial })
	applied := livetest.Apply(t, env, livetest.KeepNamespaces, fixture)
	var last kube.Update
	want := len(applied)
	seen := map[string]bool{}
	for len(seen) < want-3 { // the three namespaces may exist from another test
		last = c.next(t, "fixture events", func(kube.Update) bool { return true })
		for _, e := range last.Events {
			seen[e.Object.Object()] = true
		}
	}
	// Let the last status updates arrive.
	deadline := time.Now().Add(10 * time.Second)
	res, err := kube.ForConfig(env.Config()).Read(context.Background(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if cmp.Equal(viewOf(res.Snapshot, ltOnly), viewOf(last.Snapshot, ltOnly)) || time.Now().After(deadline) {
			break
		}
		select {
		case last = <-c.ch:
		case <-time.After(200 * time.Millisecond):
		}
	}
	if diff := cmp.Diff(viewOf(res.Snapshot, ltOnly), viewOf(last.Snapshot, ltOnly)); diff != "" {
		t.Errorf("watched model differs from a fresh read (-read +watch):\n%s", diff)
	}
	if h := w.Health(); !h.OK() {
		t.Errorf("health: %+v", h)
	}
	if got := w.Served(); len(got) != 3 {
		t.Errorf("served: %v", got)
	}
}

func findEndpoint(s *model.Snapshot, id string) *model.Endpoint {
	for _, e := range s.Endpoints {
		if e.ID() == id {
			return e
		}
	}
	return nil
}

// TestWatchAccessDenied: a watcher without permission fails at once,
// naming what it may not list.
func TestWatchAccessDenied(t *testing.T) {
	env := kubetest.Shared(t)
	w := kube.ForConfig(env.UserConfig(t, "mallory")).Watcher(kube.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := w.Run(ctx, func(context.Context, kube.Update) error { return nil })
	var ae *kube.AccessError
	if !errors.As(err, &ae) || ae.Verb != "list" {
		t.Fatalf("got %v, want an AccessError", err)
	}
	for _, res := range []string{"namespaces", "pods", "networkpolicies.networking.k8s.io", "clusternetworkpolicies.policy.networking.k8s.io"} {
		if !strings.Contains(err.Error(), "cannot list "+res+" ") {
			t.Errorf("the error does not name %s: %v", res, err)
		}
	}
}

// TestAgentRole checks that the node agent's shipped ClusterRole
// (deploy/clusterrole.yaml) is enough for what the agent reads (PodsOnly)
// through a watch, and that reading workloads too would need more.
func TestAgentRole(t *testing.T) {
	env := kubetest.Shared(t)
	user := "agent-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	cfg := env.UserConfig(t, user)
	role, err := os.ReadFile("../deploy/clusterrole.yaml")
	if err != nil {
		t.Fatal(err)
	}
	name := "bulkhead-agent-" + user
	env.Apply(t, "", strings.ReplaceAll(string(role), "name: bulkhead-agent", "name: "+name)+"\n---\n"+binding(name, user))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	synced := errors.New("synced")
	err = kube.ForConfig(cfg).Watcher(kube.Options{PodsOnly: true}).Run(ctx, func(_ context.Context, u kube.Update) error {
		if u.Initial {
			return synced
		}
		return nil
	})
	if !errors.Is(err, synced) {
		t.Fatalf("watching with the agent's role: %v", err)
	}
	var ae *kube.AccessError
	if _, err := kube.ForConfig(cfg).Read(ctx, kube.Options{}); !errors.As(err, &ae) {
		t.Errorf("reading workloads with the agent's role: got %v, want an AccessError", err)
	}
}

// TestReadPosture reads the posture kinds: Services and ServiceAccounts
// whole, of ConfigMaps only the names asked for, never Secrets.
func TestReadPosture(t *testing.T) {
	env := kubetest.Shared(t)
	ns := env.Namespace(t, nil)
	env.Apply(t, ns, `apiVersion: v1
kind: ConfigMap
metadata: {name: cilium-config}
data: {enable-k8s-cluster-network-policy: "true"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-settings}
data: {big: "not the audit's business"}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
---
apiVersion: v1
kind: Secret
metadata: {name: token}
stringData: {password: hunter2}
`)
	res, err := kube.ForConfig(env.Config()).Read(context.Background(), kube.Options{Posture: true, PostureConfigMaps: []string{"cilium-config"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range res.Unstructured {
		if u.Source.Namespace == ns {
			got = append(got, u.Source.Kind+" "+u.Obj.GetName())
		}
	}
	slices.Sort(got)
	if want := []string{"ConfigMap cilium-config", "Service web", "ServiceAccount web"}; !slices.Equal(got, want) {
		t.Errorf("posture objects of the namespace: %v, want %v", got, want)
	}
	if plain, err := kube.ForConfig(env.Config()).Read(context.Background(), kube.Options{}); err != nil || len(plain.Unstructured) != 0 {
		t.Errorf("without Posture: %d unstructured objects, err %v; want none", len(plain.Unstructured), err)
	}
}
