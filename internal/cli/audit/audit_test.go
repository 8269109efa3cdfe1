package audit_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/cli/clitest"
	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/google/go-cmp/cmp"
)

const (
	insecure = "../../../examples/insecure"
	hardened = "../../../examples/hardened"
	now      = "--now=2026-11-25"
)

// TestGolden compares the audit of the example clusters in every format
// with testdata/*.golden (go test ./internal/cli/audit -update rewrites
// them; review the diff).
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"insecure.txt", []string{"audit", insecure, now}, 1},
		{"insecure.json", []string{"audit", insecure, now, "-o", "json"}, 1},
		{"insecure.sarif", []string{"audit", insecure, now, "-o", "sarif"}, 1},
		{"insecure.junit.xml", []string{"audit", insecure, now, "-o", "junit", "--fail-on", "none"}, 0},
		{"insecure-platform.txt", []string{"audit", insecure, now, "--check", "BH-PLT-001,BH-PLT-002,BH-MESH-001", "--fail-on", "critical"}, 1},
		{"hardened.txt", []string{"audit", hardened, now, "--fail-on", "info"}, 0},
		{"hardened.json", []string{"audit", hardened, now, "-o", "json"}, 0},
		{"list-checks.txt", []string{"audit", "--list-checks"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := clitest.Run(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			testutil.Golden(t, tt.name+".golden", []byte(out))
		})
	}
}

// TestFailOn checks the exit status against each threshold.
func TestFailOn(t *testing.T) {
	for _, tt := range []struct {
		dir, failOn string
		code        int
	}{
		{insecure, "critical", 1}, {insecure, "none", 0},
		{hardened, "info", 0}, {hardened, "critical", 0},
	} {
		_, errOut, code := clitest.Run(t, "", "audit", tt.dir, now, "--fail-on", tt.failOn, "-o", "json")
		if code != tt.code {
			t.Errorf("%s --fail-on %s: exit %d, want %d (%s)", tt.dir, tt.failOn, code, tt.code, errOut)
		}
		if code == 1 && !strings.Contains(errOut, "at or above "+tt.failOn) {
			t.Errorf("exit 1 without saying why: %q", errOut)
		}
	}
}

type jsonReport struct {
	Findings []struct {
		ID          string
		Fingerprint string
		Source      string
	}
	Suppressed []struct{ ID, SuppressedBy string }
}

func fingerprints(t *testing.T, out string) []string {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	var fps []string
	for _, f := range r.Findings {
		fps = append(fps, f.ID+" "+f.Fingerprint)
	}
	sort.Strings(fps)
	return fps
}

// TestStdinMatchesFiles: the same manifests on stdin give the same
// findings, Services and PeerAuthentications (read twice) included.
func TestStdinMatchesFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(insecure, "*.yaml"))
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(append(all, "\n---\n"...), b...)
	}
	fromStdin, errOut, _ := clitest.Run(t, string(all), "audit", "-", now, "-o", "json")
	fromDir, _, _ := clitest.Run(t, "", "audit", insecure, now, "-o", "json")
	a, b := fingerprints(t, fromStdin), fingerprints(t, fromDir)
	if diff := cmp.Diff(b, a); diff != "" {
		t.Errorf("stdin and directory differ (-dir +stdin):\n%s\nstderr: %s", diff, errOut)
	}
	if !strings.Contains(strings.Join(a, " "), "BH-PLT-007") || !strings.Contains(strings.Join(a, " "), "BH-MESH-001") {
		t.Error("stdin lost the unmodelled objects (Service, PeerAuthentication)")
	}
}

// TestBaselineFlow writes a baseline, then audits against it.
func TestBaselineFlow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baseline.json")
	_, errOut, code := clitest.Run(t, "", "audit", insecure, now, "--baseline-write", path)
	if code != 0 || !strings.Contains(errOut, "wrote ") {
		t.Fatalf("--baseline-write: exit %d: %s", code, errOut)
	}
	out, errOut, code := clitest.Run(t, "", "audit", insecure, now, "--baseline", path, "-o", "json")
	if code != 0 {
		t.Fatalf("--baseline: exit %d: %s", code, errOut)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 0 || len(r.Suppressed) == 0 || r.Suppressed[0].SuppressedBy != "baseline" {
		t.Errorf("with the baseline: %d active, %d suppressed", len(r.Findings), len(r.Suppressed))
	}
}

func TestUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"apiVersion":"v2"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"audit"},
		{"audit", insecure, "-o", "yaml"},
		{"audit", insecure, "--fail-on", "severe"},
		{"audit", insecure, "--check", "BH-XX-001"},
		{"audit", insecure, "--skip-check", "nope"},
		{"audit", insecure, "--large-image", "big"},
		{"audit", insecure, "--now", "tomorrow"},
		{"audit", insecure, "--baseline", "/no/such/file"},
		{"audit", insecure, "--baseline", bad},
		{"audit", "/no/such/path"},
	} {
		out, errOut, code := clitest.Run(t, "", args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr: %s)", args, code, errOut)
		}
		if out != "" {
			t.Errorf("%v: wrote a result:\n%s", args, out)
		}
		if !strings.Contains(errOut, "error") {
			t.Errorf("%v: no error on stderr", args)
		}
	}
}

// TestInvalidInput: an invalid object fails the audit with the file, the
// object and the field, unless --ignore-invalid.
func TestInvalidInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: ns}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: http, endPort: 90}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
spec: {hostPID: true, containers: [{name: c, image: x}]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := clitest.Run(t, "", "audit", dir)
	if code != 2 || out != "" || !strings.Contains(errOut, "spec.ingress[0].ports[0].endPort") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, _, code = clitest.Run(t, "", "audit", dir, "--ignore-invalid", "--fail-on", "none")
	if code != 0 || !strings.Contains(out, "BH-WL-005") {
		t.Errorf("--ignore-invalid: exit %d:\n%s", code, out)
	}
}

// TestNamespaceFilter: -n reports the findings and scores of those
// namespaces only, from an audit of everything.
func TestNamespaceFilter(t *testing.T) {
	type doc struct {
		Findings []struct {
			Subject struct{ Kind, Namespace, Name string }
		}
		Scores []struct{ Namespace string }
	}
	run := func(args ...string) doc {
		t.Helper()
		out, errOut, code := clitest.Run(t, "", append([]string{"audit", insecure, now, "-o", "json", "--fail-on", "none"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var d doc
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	nsOf := func(kind, ns, name string) string {
		if kind == "Namespace" {
			return name
		}
		return ns
	}
	all, some := run(), run("-n", "shop-dev,monitoring")
	want := 0
	for _, f := range all.Findings {
		if ns := nsOf(f.Subject.Kind, f.Subject.Namespace, f.Subject.Name); ns == "shop-dev" || ns == "monitoring" {
			want++
		}
	}
	if want == 0 || want == len(all.Findings) {
		t.Fatalf("the example has %d of %d findings in shop-dev and monitoring; the test needs some in and some out", want, len(all.Findings))
	}
	if len(some.Findings) != want {
		t.Errorf("-n shop-dev,monitoring: %d findings, want %d", len(some.Findings), want)
	}
	for _, f := range some.Findings {
		if ns := nsOf(f.Subject.Kind, f.Subject.Namespace, f.Subject.Name); ns != "shop-dev" && ns != "monitoring" {
			t.Errorf("-n shop-dev,monitoring reports %s/%s[%s]", f.Subject.Namespace, f.Subject.Name, f.Subject.Kind)
		}
	}
	var scored []string
	for _, s := range some.Scores {
		scored = append(scored, s.Namespace)
	}
	if !slices.Equal(scored, []string{"monitoring", "shop-dev"}) {
		t.Errorf("-n shop-dev,monitoring scores %v", scored)
	}
	if a := run("-n", "shop-dev", "-A"); len(a.Findings) != len(all.Findings) {
		t.Errorf("-A with -n: %d findings, want all %d", len(a.Findings), len(all.Findings))
	}
}
