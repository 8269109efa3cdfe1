package lint_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/lint"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/bulkhead/bulkhead/sarif/sariftest"
	"github.com/google/go-cmp/cmp"
)

const mistakes = "../examples/lint/mistakes"

// lintDir lints a directory as the CLI does (suppressions and lines
// included) and returns the findings with paths relative to the
// repository root.
func lintDir(t testing.TB, dir string) []lint.Finding {
	t.Helper()
	res, err := manifest.Load([]string{dir}, nil, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if errs := res.Snapshot.Errors(); len(errs) > 0 {
		t.Fatalf("invalid input: %v", errs[0].Error())
	}
	l := lint.NewLocator(os.ReadFile)
	out, err := lint.Run(eval.New(res.Snapshot, eval.Options{}), lint.Options{Annotations: annotations(res.Objects), Locate: l.Line})
	if err != nil {
		t.Fatal(err)
	}
	for i := range out.Findings {
		out.Findings[i].File = strings.TrimPrefix(out.Findings[i].File, "../")
	}
	return out.Findings
}

// TestSARIFValidatesAgainstSchema validates the SARIF of every mistake
// (with a suppressed and a baselined finding, and one without a file)
// against the official SARIF 2.1.0 schema, and checks that the schema
// rejects broken logs, so that the test can fail.
func TestSARIFValidatesAgainstSchema(t *testing.T) {
	fs := lintDir(t, mistakes)
	fs[0].Baselined = true
	fs = append(fs, lint.Finding{ID: "BH-LINT-001", Subject: "from a cluster", Msg: "no file"})
	var buf bytes.Buffer
	if err := lint.WriteSARIF(&buf, fs, lint.SARIFOptions{Version: "test", Baseline: true}); err != nil {
		t.Fatal(err)
	}
	if err := sariftest.Validate(t, buf.Bytes()); err != nil {
		t.Fatalf("SARIF output does not validate:\n%v", err)
	}
	var log map[string]any
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log["runs"].([]any)[0].(map[string]any)
	results := run["results"].([]any)
	if len(results) != len(fs) {
		t.Fatalf("%d results for %d findings", len(results), len(fs))
	}
	rules := run["tool"].(map[string]any)["driver"].(map[string]any)["rules"].([]any)
	if len(rules) != len(lint.Checks()) {
		t.Errorf("%d rules for %d checks", len(rules), len(lint.Checks()))
	}
	var suppressed int
	for _, r := range results {
		if _, ok := r.(map[string]any)["suppressions"]; ok {
			suppressed++
		}
	}
	if suppressed != 1 {
		t.Errorf("%d results with suppressions, want 1 (14-suppression.yaml)", suppressed)
	}
	for name, mutate := range map[string]func(r map[string]any){
		"unknown level":    func(r map[string]any) { r["level"] = "fatal" },
		"no message":       func(r map[string]any) { delete(r, "message") },
		"line 0":           func(r map[string]any) { loc(r)["region"] = map[string]any{"startLine": 0} },
		"unknown property": func(r map[string]any) { r["severity"] = "high" },
	} {
		var broken map[string]any
		json.Unmarshal(buf.Bytes(), &broken)
		mutate(broken["runs"].([]any)[0].(map[string]any)["results"].([]any)[1].(map[string]any))
		data, _ := json.Marshal(broken)
		if sariftest.Validate(t, data) == nil {
			t.Errorf("%s: the schema accepted a broken log; the validation proves nothing", name)
		}
	}
}

func loc(r map[string]any) map[string]any {
	return r["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)
}

// TestBaselineSurvivesMoves writes a baseline, then lints the same
// objects moved into one file, in reverse order, below extra comments:
// every finding matches the baseline. A new mistake is the only active
// finding, and a fixed one is reported gone.
func TestBaselineSurvivesMoves(t *testing.T) {
	before := lintDir(t, mistakes)
	var buf bytes.Buffer
	if err := lint.NewBaseline(before).Write(&buf); err != nil {
		t.Fatal(err)
	}
	base, err := lint.ReadBaseline(&buf)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(mistakes, "*.yaml"))
	slices.Reverse(files)
	var moved []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, "01-selects-nothing.yaml") {
			continue // fixed
		}
		moved = append(moved, "\n# moved here\n\n\n---\n"...)
		moved = append(moved, b...)
	}
	moved = append(moved, `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: new-typo, namespace: data}
spec:
  podSelector: {matchLabels: {app: postgress}}
`...)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "all.yaml"), moved, 0o644); err != nil {
		t.Fatal(err)
	}
	after := lintDir(t, dir)
	gone := base.Apply(after)
	var active []string
	for _, f := range after {
		if f.Active() {
			active = append(active, f.ID+" "+f.Object.Object())
		}
	}
	if diff := cmp.Diff([]string{"BH-LINT-001 networkpolicy data/new-typo"}, active); diff != "" {
		t.Errorf("active findings after the move (-want +got):\n%s", diff)
	}
	if len(gone) != 1 || gone[0].ID != "BH-LINT-001" || gone[0].Object != "networkpolicy api/api-metrics" {
		t.Errorf("gone = %+v, want the fixed BH-LINT-001 of api/api-metrics", gone)
	}
	if n := lint.Count(after); n.Baselined != len(before)-2 {
		// The suppressed finding is not in the baseline, and the fixed one is gone.
		t.Errorf("%d findings baselined, want %d", n.Baselined, len(before)-2)
	}
}

func TestReadBaselineErrors(t *testing.T) {
	for _, in := range []string{
		`{"apiVersion": "bulkhead.dev/v1", "kind": "LintReport", "findings": []}`,
		`{"apiVersion": "bulkhead.dev/v1", "kind": "LintBaseline", "findings": [{"id": "BH-LINT-001"}]}`,
		`{"apiVersion": "bulkhead.dev/v1", "kind": "LintBaseline", "findings": [], "extra": 1}`,
		`not json`,
	} {
		if _, err := lint.ReadBaseline(strings.NewReader(in)); err == nil {
			t.Errorf("ReadBaseline(%s) accepted it", in)
		}
	}
}

// TestDocs regenerates docs/lint.md from the registry, quoting a finding
// of each check from examples/lint/mistakes; run with -update after
// changing a check, and review the diff.
func TestDocs(t *testing.T) {
	examples := map[string]lint.Finding{}
	for _, f := range lintDir(t, mistakes) {
		if _, ok := examples[f.ID]; !ok && f.Active() {
			examples[f.ID] = f
		}
	}
	var buf bytes.Buffer
	if err := lint.WriteDocs(&buf, examples); err != nil {
		t.Fatal(err)
	}
	const path = "../docs/lint.md"
	if testutil.Updating() {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lint -run TestDocs -update)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("docs/lint.md is out of date with the check registry; run go test ./lint -run TestDocs -update (-want +got):\n%s", diff)
	}
	for _, c := range lint.Checks() {
		if !strings.Contains(buf.String(), "### "+c.Info().ID) {
			t.Errorf("docs miss %s", c.Info().ID)
		}
	}
}
