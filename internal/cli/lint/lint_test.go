package lint_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/cli/clitest"
	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/lint"
)

// The commands run from the repository root (clitest.RunIn), so that
// paths in outputs read as a user would see them.
const (
	root     = "../../.."
	mistakes = "examples/lint/mistakes"
	clean    = "examples/lint/clean"
)

// TestGolden compares the outputs on the mistakes example with
// testdata/*.golden (go test ./internal/cli/lint -update rewrites them).
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"mistakes.txt", []string{"lint", mistakes}, 1},
		{"mistakes-verbose.txt", []string{"lint", mistakes, "-v", "--fail-on", "none"}, 0},
		{"mistakes.json", []string{"lint", mistakes, "-o", "json"}, 1},
		{"mistakes.sarif", []string{"lint", mistakes, "-o", "sarif", "--uri-base", "."}, 1},
		{"shop.txt", []string{"lint", "examples/shop"}, 0},
		{"multi-tenant.txt", []string{"lint", "examples/multi-tenant"}, 0},
		{"clean.txt", []string{"lint", "-v", clean}, 0},
		{"list-checks.txt", []string{"lint", "--list-checks"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := clitest.RunIn(t, root, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			testutil.Golden(t, tt.name+".golden", []byte(out))
		})
	}
}

// TestEveryMistakeCaught checks the mistakes example: each check fires in
// the file numbered after it (06-*.yaml for BH-LINT-006, 14-*.yaml for
// BH-LINT-100), and the clean example has no finding at all, suppressed
// or not.
func TestEveryMistakeCaught(t *testing.T) {
	out, _, _ := clitest.RunIn(t, root, "lint", mistakes, "-o", "json")
	var doc lint.ReportJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	files := map[string][]string{}
	for _, f := range doc.Findings {
		files[f.ID] = append(files[f.ID], filepath.Base(f.File))
	}
	for _, c := range lint.Checks() {
		id := c.Info().ID
		num := strings.TrimPrefix(id, "BH-LINT-")[1:]
		if id == "BH-LINT-100" {
			num = "14"
		}
		found := false
		for _, f := range files[id] {
			if strings.HasPrefix(f, num+"-") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no finding in %s/%s-*.yaml (found in %v)", id, mistakes, num, files[id])
		}
	}
	out, _, code := clitest.RunIn(t, root, "lint", clean, "-o", "json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if code != 0 || len(doc.Findings) != 0 {
		t.Errorf("clean example: exit %d, %d findings, want none: %+v", code, len(doc.Findings), doc.Findings)
	}
}

func TestFailOn(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"lint", "examples/shop"}, 0},
		{[]string{"lint", "examples/shop", "--fail-on", "warning"}, 1},
		{[]string{"lint", "examples/shop", "--fail-on", "info"}, 1},
		{[]string{"lint", mistakes, "--fail-on", "none"}, 0},
		{[]string{"lint", mistakes, "--skip-check", "BH-LINT-008,BH-LINT-100"}, 0},
		{[]string{"lint", mistakes, "--skip", "BH-LINT-008,BH-LINT-100"}, 0}, // the deprecated name
		{[]string{"lint", mistakes, "--check", "bh-lint-008"}, 1},
		{[]string{"lint", mistakes, "--checks", "bh-lint-008"}, 1}, // the deprecated name
		{[]string{"lint", mistakes, "-n", "nosuch"}, 0},
		{[]string{"lint", mistakes, "-n", "nosuch", "-A"}, 1},
		{[]string{"lint", "examples/shop", "--fail-on", "fatal"}, 2},
		{[]string{"lint", "examples/shop", "-o", "xml"}, 2},
		{[]string{"lint", "examples/shop", "--check", "BH-LINT-999"}, 2},
		{[]string{"lint"}, 2},
		{[]string{"lint", "no/such/dir"}, 2},
	}
	for _, tt := range tests {
		_, errOut, code := clitest.RunIn(t, root, tt.args...)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s", tt.args, code, tt.code, errOut)
		}
	}
}

// TestBaselineFlow writes a baseline of the mistakes, then lints the same
// objects moved to other lines of another file plus a new mistake: only
// the new one counts.
func TestBaselineFlow(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	_, errOut, code := clitest.RunIn(t, root, "lint", mistakes, "--baseline-write", base)
	if code != 0 || !strings.Contains(errOut, "wrote 15 finding(s) to the baseline") {
		t.Fatalf("--baseline-write: exit %d, stderr:\n%s", code, errOut)
	}
	if _, _, code := clitest.RunIn(t, root, "lint", mistakes, "--baseline", base); code != 0 {
		t.Fatalf("linting against its own baseline: exit %d, want 0", code)
	}
	paths, _ := filepath.Glob(filepath.Join("../../..", mistakes, "*.yaml"))
	var all []byte
	for i := len(paths) - 1; i >= 0; i-- {
		b, err := os.ReadFile(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		all = append(append(all, "\n# shuffled\n---\n"...), b...)
	}
	all = append(all, "\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: wide-open, namespace: api}\nspec:\n  podSelector: {matchLabels: {app: worker}}\n  ingress:\n  - {}\n"...)
	moved := filepath.Join(dir, "moved.yaml")
	if err := os.WriteFile(moved, all, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := clitest.RunIn(t, root, "lint", moved, "--baseline", base, "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1 for the new mistake", code)
	}
	var doc lint.ReportJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var active []string
	for _, f := range doc.Findings {
		if !f.Baselined && !f.Suppressed {
			active = append(active, f.ID+" "+f.Subject)
		}
	}
	if len(active) != 1 || active[0] != "BH-LINT-008 NetworkPolicy api/wide-open" {
		t.Errorf("active findings = %v, want only the new BH-LINT-008", active)
	}
	out, _, _ = clitest.RunIn(t, root, "lint", moved, "--baseline", base, "-o", "sarif")
	if n := strings.Count(out, `"baselineState": "new"`); n != 1 {
		t.Errorf("%d SARIF results are new, want 1", n)
	}
	if err := os.WriteFile(base, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := clitest.RunIn(t, root, "lint", mistakes, "--baseline", base); code != 2 || !strings.Contains(errOut, "LintBaseline") {
		t.Errorf("bad baseline file: exit %d, stderr %q", code, errOut)
	}
}

// TestFineLines checks that findings point at the rule or peer, not the
// document: 06-or-instead-of-and.yaml's second item is on line 14.
func TestFineLines(t *testing.T) {
	out, _, _ := clitest.RunIn(t, root, "lint", mistakes, "--check", "BH-LINT-006")
	if !regexp.MustCompile(`(?m)^examples/lint/mistakes/06-or-instead-of-and\.yaml:14: warning BH-LINT-006 `).MatchString(out) {
		t.Errorf("BH-LINT-006 not reported at 06-or-instead-of-and.yaml:14:\n%s", out)
	}
}

// TestNoWorkloads lints policies alone: the checks that need workloads
// say they were skipped, the others still run.
func TestNoWorkloads(t *testing.T) {
	out, errOut, code := clitest.RunIn(t, root, "lint", "examples/shop/policies.yaml", "examples/shop/namespaces.yaml")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errOut, "note: skipped BH-LINT-001 policy-selects-nothing: the input has no pods or workloads") {
		t.Errorf("stderr does not say which checks were skipped:\n%s", errOut)
	}
	if !strings.Contains(out, "BH-LINT-006") {
		t.Errorf("the OR-instead-of-AND mistake is not found without workloads:\n%s", out)
	}
}

// TestNamespaceFilter: -n reports the findings of those namespaces'
// policies only.
func TestNamespaceFilter(t *testing.T) {
	out, errOut, code := clitest.RunIn(t, root, "lint", mistakes, "-n", "web,api", "-o", "json", "--fail-on", "none")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Findings []struct{ Object struct{ Namespace string } }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Findings) == 0 {
		t.Fatal("no findings in web and api")
	}
	for _, f := range doc.Findings {
		if ns := f.Object.Namespace; ns != "web" && ns != "api" {
			t.Errorf("-n web,api reports a finding in %q", ns)
		}
	}
}
