package audit_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/bulkhead/bulkhead/audit"
	"github.com/google/go-cmp/cmp"
)

// loadDir loads every manifest of an example directory as one input.
func loadDir(t testing.TB, dir string) audit.Input { return loadWith(t, dir, nil) }

// loadWith loads an example directory with extra manifests appended.
func loadWith(t testing.TB, dir string, extra []byte) audit.Input {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no manifests (%v)", dir, err)
	}
	sort.Strings(files)
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(append(all, "\n---\n"...), b...)
	}
	if extra != nil {
		all = append(append(all, "\n---\n"...), extra...)
	}
	return load(t, dir, all)
}

// TestInsecureExampleTriggersEveryCheck: examples/insecure is the
// catalogue's demonstration; every check must fire on it.
func TestInsecureExampleTriggersEveryCheck(t *testing.T) {
	r := audit.Run(loadDir(t, "../examples/insecure"), audit.Config{Now: testNow})
	fired := map[string]int{}
	for _, f := range r.Findings {
		fired[f.ID]++
	}
	for _, c := range audit.Checks() {
		if fired[c.ID] == 0 {
			t.Errorf("%s (%s) does not fire on examples/insecure", c.ID, c.Title)
		}
	}
	if len(r.Suppressed) != 0 || len(r.Notes) != 0 {
		t.Errorf("unexpected suppressions or notes: %v %v", r.Suppressed, r.Notes)
	}
}

// TestHardenedExampleTriggersNone: examples/hardened fixes every weakness;
// what cannot be fixed (a CNI agent needs root on the node) is suppressed
// with a reason, and those suppressions are exactly the expected ones.
func TestHardenedExampleTriggersNone(t *testing.T) {
	r := audit.Run(loadDir(t, "../examples/hardened"), audit.Config{Now: testNow})
	if len(r.Findings) != 0 {
		t.Fatalf("examples/hardened has findings:\n%s", describe(r.Findings))
	}
	if len(r.Notes) != 0 {
		t.Errorf("notes: %v", r.Notes)
	}
	var got []string
	for _, s := range r.Suppressed {
		got = append(got, s.ID+" "+s.Subject.String())
	}
	want := []string{
		"BH-NET-003 ingress/ingress-gateway[Deployment]",
		"BH-NET-004 kube-system/coredns[Deployment]",
		"BH-WL-001 calico-system/calico-node[DaemonSet]",
		"BH-WL-004 calico-system/calico-node[DaemonSet]",
		"BH-WL-004 kube-system/kube-apiserver-cp-1[Pod]",
		"BH-WL-008 calico-system/calico-node[DaemonSet]",
	}
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suppressions (-want +got):\n%s", diff)
	}
	for _, s := range r.Scores {
		if s.Score != 100 {
			t.Errorf("namespace %q scores %d", s.Namespace, s.Score)
		}
	}
	if len(r.CNIs) != 1 || r.CNIs[0].Name != "calico" || r.CNIs[0].Support["ClusterNetworkPolicy"] != audit.Enforced {
		t.Errorf("network plugins: %+v", r.CNIs)
	}
}
