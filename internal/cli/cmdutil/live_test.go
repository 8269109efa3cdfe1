package cmdutil_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/internal/cli/clitest"
	"github.com/bulkhead/bulkhead/internal/kubetest"
	"github.com/bulkhead/bulkhead/kube/livetest"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestMain shares one API server between the package's live tests.
func TestMain(m *testing.M) { kubetest.Main(m) }

// TestLiveMatchesManifests applies each fixture to the test API server and
// runs the read-only commands twice, on the manifests and on the cluster
// (--kubeconfig, no PATH): the outputs must be the same, except the
// file:line sources a cluster does not have.
func TestLiveMatchesManifests(t *testing.T) {
	env := kubetest.Shared(t)
	kubeconfig := env.Kubeconfig
	fixtures := []struct {
		name string
		path string
		runs [][]string
	}{
		{"shop", "../../../examples/shop", [][]string{
			{"analyze"},
			{"analyze", "-o", "json"},
			{"analyze", "-o", "csv"},
			{"analyze", "-o", "md"},
			{"analyze", "-o", "dot"},
			{"analyze", "--explain", "-n", "shop-data"},
			{"analyze", "--explain", "-o", "json"},
			{"analyze", "--focus", "shop-backend/payments"},
			{"explain", "--from", "shop-backend/recommendations", "--to", "shop-data/postgres", "--port", "5432/TCP"},
			{"explain", "--from", "shop-frontend/storefront", "--to", "shop-data/redis", "--port", "6379/TCP", "-o", "json"},
			{"explain", "--from", "shop-backend/payments", "--to", "203.0.113.7", "--port", "443/TCP"},
			{"matrix", "--port", "8080/TCP", "--port", "53/UDP"},
			{"matrix", "--port", "5432/TCP", "-n", "shop-data", "-o", "json"},
			{"blast-radius", "--from", "shop-frontend/storefront"},
			{"blast-radius", "--rank", "-o", "json"},
			{"exposure"},
			{"exposure", "-o", "json"},
			{"lint", "-o", "json", "--fail-on", "none"}, // text is ordered by file:line
			{"test", "../../../examples/specs/shop.yaml", "@"},
			{"test", "../../../examples/specs/shop-failing.yaml", "@", "-o", "json"},
		}},
		{"multi-tenant", "../../../examples/multi-tenant", [][]string{
			{"analyze"},
			{"analyze", "--explain", "-o", "json"},
			{"matrix", "--port", "53/UDP", "--port", "8080/TCP"},
			{"blast-radius", "--rank"},
		}},
		{"kube-fixture", "../../../kube/testdata/cluster", [][]string{
			{"analyze"},
			{"analyze", "--explain", "-o", "json"},
			{"explain", "--from", "lt-shop/web-5d8f-a", "--to", "lt-data/db-0", "--port", "5432/TCP"},
			{"explain", "--from", "lt-ops/agent[DaemonSet]", "--to", "lt-node-a[Node]", "-o", "json"},
			{"matrix", "--port", "5432/TCP", "--port", "443/TCP", "-o", "json"},
		}},
	}
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			applied := livetest.Apply(t, env, livetest.KeepNamespaces, fx.path)
			// Owner references need the uids the server gave; compare with
			// the manifests as the cluster holds them.
			manifests := fx.path
			if hasOwners(applied) {
				manifests = filepath.Join(t.TempDir(), "as-applied.yaml")
				livetest.WriteYAML(t, manifests, applied)
			}
			for _, args := range fx.runs {
				// "@" is where the manifests go; right after the command
				// when absent.
				files, cluster := []string{args[0], manifests}, []string{args[0]}
				for _, a := range args[1:] {
					if a == "@" {
						files = []string{args[0]}
					}
				}
				for _, a := range args[1:] {
					switch a {
					case "@":
						files = append(files, manifests)
					default:
						files, cluster = append(files, a), append(cluster, a)
					}
				}
				fromFiles, errFiles, code := clitest.Run(t, "", files...)
				if code > 1 {
					t.Fatalf("%v on manifests: exit %d: %s", args, code, errFiles)
				}
				fromCluster, errCluster, codeCluster := clitest.Run(t, "", append(cluster, "--kubeconfig", kubeconfig)...)
				if codeCluster != code {
					t.Fatalf("%v: exit %d on the cluster, %d on manifests: %s", args, codeCluster, code, errCluster)
				}
				if diff := cmp.Diff(normalize(t, fromFiles), normalize(t, fromCluster)); diff != "" {
					t.Errorf("%v: cluster and manifests differ (-manifests +cluster):\n%s", args, diff)
				}
			}
		})
	}
}

func hasOwners(objs []manifest.Object) bool {
	for _, o := range objs {
		if acc, err := meta.Accessor(o.Obj); err == nil && len(acc.GetOwnerReferences()) > 0 {
			return true
		}
	}
	return false
}

func sleep() { time.Sleep(100 * time.Millisecond) }

var sourceLine = regexp.MustCompile(`(?m)^\s+at \S+:\d+\n`)

// normalize drops what only manifests have: "at file:line" lines of the
// text output, and "source" fields of JSON.
func normalize(t *testing.T, out string) string {
	t.Helper()
	trimmed := strings.TrimSpace(out)
	if strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[") {
		var v any
		if err := json.Unmarshal([]byte(trimmed), &v); err != nil {
			t.Fatalf("bad JSON: %v", err)
		}
		dropSources(v)
		sortFindings(v)
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return sourceLine.ReplaceAllString(out, "")
}

// sortFindings orders the findings of lint's JSON by fingerprint and drops
// their file and line: manifests order them by file:line, a cluster (which
// has no files) by object.
func sortFindings(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	fs, ok := m["findings"].([]any)
	if !ok {
		return
	}
	fp := func(f any) string {
		x, _ := f.(map[string]any)
		delete(x, "file")
		delete(x, "line")
		s, _ := x["fingerprint"].(string)
		return s
	}
	slices.SortFunc(fs, func(a, b any) int { return strings.Compare(fp(a), fp(b)) })
}

func dropSources(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "source")
		for _, e := range x {
			dropSources(e)
		}
	case []any:
		for _, e := range x {
			dropSources(e)
		}
	}
}

// TestLiveFlags checks how the input is chosen.
func TestLiveFlags(t *testing.T) {
	env := kubetest.Shared(t)
	t.Setenv("KUBECONFIG", "")
	tests := []struct {
		name string
		env  string // KUBECONFIG
		args []string
		code int
		err  string
	}{
		{"no input", "", []string{"analyze"}, 2, "no input: give manifest files"},
		{"paths and a cluster", "", []string{"analyze", "../../../examples/shop", "--kubeconfig", env.Kubeconfig}, 2, "not both"},
		{"paths and --live", "", []string{"analyze", "../../../examples/shop", "--live"}, 2, "not both"},
		{"unknown context", "", []string{"analyze", "--kubeconfig", env.Kubeconfig, "--context", "nope"}, 2, `no context "nope"`},
		{"$KUBECONFIG with no path", env.Kubeconfig, []string{"analyze"}, 0, ""},
		{"$KUBECONFIG is ignored with paths", "/nonexistent", []string{"analyze", "../../../examples/shop"}, 0, ""},
		{"--live reads $KUBECONFIG", env.Kubeconfig, []string{"analyze", "--live"}, 0, ""},
		{"--context", env.Kubeconfig, []string{"matrix", "--context", kubetest.ContextName, "--port", "80/TCP"}, 0, ""},
		{"report of a cluster", env.Kubeconfig, []string{"report", "-o", filepath.Join(t.TempDir(), "r.html")}, 0, "r.html"},
		{"refused", "", []string{"analyze", "--kubeconfig", env.UserKubeconfig(t, "nobody")}, 2, `cannot list namespaces in every namespace`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tt.env)
			_, errOut, code := clitest.Run(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.err) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut, tt.code, tt.err)
			}
		})
	}
}

// TestLiveMissingCRDs reads a cluster that serves none of the
// network-policy-api kinds: a warning, not a failure.
func TestLiveMissingCRDs(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	for _, crd := range []struct{ version, plural string }{
		{"v1alpha1", "adminnetworkpolicies"}, {"v1alpha1", "baselineadminnetworkpolicies"}, {"v1beta1", "clusternetworkpolicies"},
	} {
		livetest.RemoveCRD(t, env, "policy.networking.k8s.io", crd.version, crd.plural)
	}
	dir := t.TempDir()
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec: {containers: [{name: c, image: x}]}\n"
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(pod), 0o644); err != nil {
		t.Fatal(err)
	}
	livetest.Apply(t, env, livetest.KeepNamespaces, dir)
	var out, errOut string
	var code int
	// Discovery may serve the deleted CRDs for a moment.
	for range 100 {
		out, errOut, code = clitest.Run(t, "", "analyze", "--kubeconfig", env.Kubeconfig)
		if strings.Contains(errOut, "serves none of the cluster-wide policy kinds") {
			break
		}
		sleep()
	}
	if code != 0 || !strings.Contains(out, "default/p") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"warning: the cluster serves none of the cluster-wide policy kinds", "adminnetworkpolicies.policy.networking.k8s.io", "clusternetworkpolicies.policy.networking.k8s.io"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut)
		}
	}
}

// TestLiveAuditMatchesManifests applies the posture examples, Services,
// ServiceAccounts, RBAC bindings and Istio PeerAuthentications included,
// each to its own API server (they share namespace names), and audits the
// manifests and the cluster: the findings must be the same, except where
// only a real API server has something (its built-in namespaces and
// bootstrap RBAC, which the manifests do not declare) and the file:line
// sources only manifests have.
func TestLiveAuditMatchesManifests(t *testing.T) {
	for _, path := range []string{"../../../examples/insecure", "../../../examples/hardened"} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			env := kubetest.Start(t)
			installPeerAuthenticationCRD(t, env)
			res, err := manifest.Load([]string{path}, nil, manifest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			applied := livetest.ApplyObjects(t, env, livetest.KeepNamespaces, res.Objects)
			if hasOwners(applied) {
				t.Fatalf("%s has ownerReferences: compare with the objects as applied", path)
			}
			livetest.ApplyUnstructured(t, env, res.Unstructured)
			for _, args := range [][]string{
				{"audit", "-o", "json", "--now", "2026-11-01", "--fail-on", "none"},
				{"audit", "--now", "2026-11-01", "--fail-on", "none"},
			} {
				fromFiles, errFiles, code := clitest.Run(t, "", append([]string{args[0], path}, args[1:]...)...)
				if code != 0 {
					t.Fatalf("%v on manifests: exit %d: %s", args, code, errFiles)
				}
				fromCluster, errCluster, code := clitest.Run(t, "", append(args, "--kubeconfig", env.Kubeconfig)...)
				if code != 0 {
					t.Fatalf("%v on the cluster: exit %d: %s", args, code, errCluster)
				}
				if diff := cmp.Diff(dropWhere(normalize(t, fromFiles)), dropWhere(normalize(t, fromCluster))); diff != "" {
					t.Errorf("%v: cluster and manifests differ (-manifests +cluster):\n%s", args, diff)
				}
			}
		})
	}
}

var whereColumn = regexp.MustCompile(`(?m)[ \t]*(\S+:\d+)?[ \t]*$`)

// dropWhere drops the file:line column that ends the lines of a text
// table, and the spaces before it.
func dropWhere(out string) string { return whereColumn.ReplaceAllString(out, "") }

// installPeerAuthenticationCRD installs Istio's PeerAuthentication kind
// (v1 and v1beta1, schema left open, as the audit reads it
// unstructured) and waits until
// the server serves it.
func installPeerAuthenticationCRD(t *testing.T, env *kubetest.Env) {
	t.Helper()
	open := map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "peerauthentications.security.istio.io"},
		"spec": map[string]any{
			"group": "security.istio.io",
			"scope": "Namespaced",
			"names": map[string]any{"plural": "peerauthentications", "singular": "peerauthentication", "kind": "PeerAuthentication", "listKind": "PeerAuthenticationList"},
			"versions": []any{
				map[string]any{"name": "v1", "served": true, "storage": true, "schema": open},
				map[string]any{"name": "v1beta1", "served": true, "storage": false, "schema": open},
			},
		},
	}}
	livetest.InstallCRD(t, env, crd)
}

// TestLiveDiffApplied runs `diff --kubeconfig K PATH` (what applying PATH
// to the cluster would change) and compares it with the diff of the same
// objects as two sets of manifests: the cluster's, and the cluster's with
// the change made.
func TestLiveDiffApplied(t *testing.T) {
	env := kubetest.Shared(t)
	const shop = "../../../examples/shop"
	livetest.Apply(t, env, livetest.KeepNamespaces, shop)

	// The fix of the shop's classic mistake: one peer (AND), not two (OR).
	const or = `    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop-backend}}
    - podSelector: {matchLabels: {app: orders}}`
	const and = `    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop-backend}}
      podSelector: {matchLabels: {app: orders}}`
	policies, err := os.ReadFile(filepath.Join(shop, "policies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(policies), or) {
		t.Fatal("the shop example no longer has its OR mistake; update this test")
	}
	fix := t.TempDir()
	writeFile(t, filepath.Join(fix, "postgres.yaml"), `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: postgres-from-orders, namespace: shop-data}
spec:
  podSelector: {matchLabels: {app: postgres}}
  ingress:
  - from:
`+and+`
    ports:
    - {port: sql}
`)
	fixed := t.TempDir()
	for _, name := range []string{"namespaces.yaml", "workloads.yaml", "policies.yaml"} {
		data, err := os.ReadFile(filepath.Join(shop, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(fixed, name), strings.Replace(string(data), or, and, 1))
	}

	fromFiles, errFiles, code := clitest.Run(t, "", "diff", shop, fixed, "-o", "json")
	if code != 0 {
		t.Fatalf("diff of manifests: exit %d: %s", code, errFiles)
	}
	fromCluster, errCluster, code := clitest.Run(t, "", "diff", "--kubeconfig", env.Kubeconfig, fix, "-o", "json")
	if code != 0 {
		t.Fatalf("diff against the cluster: exit %d: %s", code, errCluster)
	}
	if !strings.Contains(fromCluster, `"removed"`) || !strings.Contains(fromCluster, "shop-data/postgres") {
		t.Errorf("the fix removes no connection to postgres:\n%s", fromCluster)
	}
	// The sides' labels and the policies' sources differ, by design.
	unlabel := func(out string) string {
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		delete(v, "old")
		delete(v, "new")
		for _, p := range v["policies"].([]any) {
			delete(p.(map[string]any), "oldSource")
			delete(p.(map[string]any), "newSource")
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return normalize(t, string(b))
	}
	if diff := cmp.Diff(unlabel(fromFiles), unlabel(fromCluster)); diff != "" {
		t.Errorf("diff against the cluster and of manifests differ (-manifests +cluster):\n%s", diff)
	}

	for _, tt := range []struct {
		args []string
		err  string
	}{
		{[]string{"diff", "--kubeconfig", env.Kubeconfig}, "takes the manifests to apply over it"},
		{[]string{"diff", "--kubeconfig", env.Kubeconfig, "--git", "HEAD", fix}, "--git compares revisions of manifests"},
	} {
		if _, errOut, code := clitest.Run(t, "", tt.args...); code != 2 || !strings.Contains(errOut, tt.err) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, errOut, tt.err)
		}
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
