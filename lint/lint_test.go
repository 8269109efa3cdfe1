package lint_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/lint"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
	"k8s.io/apimachinery/pkg/api/meta"
)

// load models manifests given as text, as the CLI does, and fails the
// test on invalid objects.
func load(t testing.TB, name string, data []byte) (*eval.Engine, []manifest.Object) {
	t.Helper()
	res := manifest.LoadBytes(name, data, manifest.Options{})
	if errs := res.Snapshot.Errors(); len(errs) > 0 {
		t.Fatalf("invalid input: %v", errs[0].Error())
	}
	return eval.New(res.Snapshot, eval.Options{}), res.Objects
}

// annotations indexes the objects' annotations like the CLI does.
func annotations(objs []manifest.Object) func(model.Source) map[string]string {
	idx := map[string]map[string]string{}
	for _, o := range objs {
		if m, err := meta.Accessor(o.Obj); err == nil {
			idx[o.Source.Object()] = m.GetAnnotations()
		}
	}
	return func(s model.Source) map[string]string { return idx[s.Object()] }
}

// want is one expected finding: "ID severity kind name [path] "substring"
// [suppressed="reason"]".
type want struct {
	header, substr, reason string
}

func parseWant(t *testing.T, text string) []want {
	var out []want
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		head, rest, ok := strings.Cut(line, ` "`)
		if !ok {
			t.Fatalf("want line %q: no quoted substring", line)
		}
		sub, tail, _ := strings.Cut(rest, `"`)
		w := want{header: head, substr: sub}
		if r, ok := strings.CutPrefix(strings.TrimSpace(tail), `suppressed="`); ok {
			w.reason = strings.TrimSuffix(r, `"`)
		}
		out = append(out, w)
	}
	return out
}

func header(f lint.Finding) string {
	return strings.TrimSpace(fmt.Sprintf("%s %s %s %s", f.ID, f.Severity, f.Object.Object(), f.Path))
}

// TestChecks runs every scenario of testdata/checks/*.txtar: the manifests
// of the archive, and under "want" every finding expected, by header and
// a part of its message. Findings that no line expects fail the test, so
// each scenario's quiet cases are checked too; a "checks" file limits a
// scenario to some checks, where the others would only repeat what their
// own scenarios test.
func TestChecks(t *testing.T) {
	files, err := filepath.Glob("testdata/checks/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	covered := map[string]bool{}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var input []byte
			var wants []want
			var only []string
			for _, f := range ar.Files {
				switch {
				case f.Name == "checks":
					only = strings.Fields(string(f.Data))
				case f.Name == "want":
					wants = parseWant(t, string(f.Data))
				case strings.HasSuffix(f.Name, ".yaml"):
					input = append(append(input, "\n---\n"...), f.Data...)
				}
			}
			e, objs := load(t, "in.yaml", input)
			res, err := lint.Run(e, lint.Options{Only: only, Annotations: annotations(objs)})
			if err != nil {
				t.Fatal(err)
			}
			used := make([]bool, len(res.Findings))
			var missing []string
			for _, w := range wants {
				found := false
				for i, f := range res.Findings {
					if used[i] || header(f) != w.header || !strings.Contains(f.Msg, w.substr) || f.Reason != w.reason || f.Suppressed != (w.reason != "") {
						continue
					}
					used[i], found = true, true
					covered[f.ID] = true
					break
				}
				if !found {
					missing = append(missing, fmt.Sprintf("%s %q suppressed=%q", w.header, w.substr, w.reason))
				}
			}
			for _, m := range missing {
				t.Errorf("missing finding: %s", m)
			}
			for i, f := range res.Findings {
				if !used[i] {
					t.Errorf("unexpected finding: %s: %s (suppressed=%v %q)", header(f), f.Msg, f.Suppressed, f.Reason)
				}
			}
		})
	}
	for _, c := range lint.Checks() {
		if id := c.Info().ID; !covered[id] {
			t.Errorf("no scenario in testdata/checks expects a finding of %s", id)
		}
	}
}

func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	var ids []string
	for _, c := range lint.Checks() {
		info := c.Info()
		if seen[info.ID] || seen[info.Name] {
			t.Errorf("duplicate ID or name: %s %s", info.ID, info.Name)
		}
		seen[info.ID], seen[info.Name] = true, true
		ids = append(ids, info.ID)
		if info.Summary == "" || info.Doc == "" || info.Fix == "" || info.Severity == model.SeverityUnknown {
			t.Errorf("%s: Summary, Doc, Fix and Severity are required", info.ID)
		}
		if lint.Lookup(info.ID) == nil {
			t.Errorf("Lookup(%s) = nil", info.ID)
		}
	}
	if !slices.IsSorted(ids) {
		t.Errorf("registry is not in ID order: %v", ids)
	}
	if _, err := lint.Run(eval.New(&model.Snapshot{}, eval.Options{}), lint.Options{Only: []string{"BH-LINT-999"}}); err == nil {
		t.Error("Run accepted an unknown check ID")
	}
}

func TestParseSuppressions(t *testing.T) {
	tests := []struct {
		value string
		want  []lint.Suppression
		errs  int
	}{
		{"BH-LINT-001: typo is intended", []lint.Suppression{{IDs: []string{"BH-LINT-001"}, Reason: "typo is intended"}}, 0},
		{"bh-lint-001 , BH-LINT-009: both; really", []lint.Suppression{{IDs: []string{"BH-LINT-001", "BH-LINT-009"}, Reason: "both; really"}}, 0},
		{"BH-LINT-001: a\n\nBH-LINT-002: b\n", []lint.Suppression{{IDs: []string{"BH-LINT-001"}, Reason: "a"}, {IDs: []string{"BH-LINT-002"}, Reason: "b"}}, 0},
		{"BH-LINT-001", nil, 1},
		{"BH-LINT-001:   ", nil, 1},
		{"BH-LINT-998: no such check", nil, 1},
		{"LINT-1: what", nil, 1},
		{"BH-LINT-001, nonsense: why", nil, 1},
		{"", nil, 0},
	}
	for _, tt := range tests {
		got, errs := lint.ParseSuppressions(tt.value)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseSuppressions(%q) (-want +got):\n%s", tt.value, diff)
		}
		if len(errs) != tt.errs {
			t.Errorf("ParseSuppressions(%q): %d errors %v, want %d", tt.value, len(errs), errs, tt.errs)
		}
	}
}

func FuzzParseSuppressions(f *testing.F) {
	f.Add("BH-LINT-001: reason")
	f.Add("BH-LINT-001, BH-LINT-002: a\nBH-LINT-100:")
	f.Add(":::\n,\n")
	f.Fuzz(func(t *testing.T, value string) {
		got, _ := lint.ParseSuppressions(value)
		for _, s := range got {
			if s.Reason == "" || len(s.IDs) == 0 {
				t.Fatalf("ParseSuppressions(%q) accepted %+v without a reason or IDs", value, s)
			}
			for _, id := range s.IDs {
				if lint.Lookup(id) == nil {
					t.Fatalf("ParseSuppressions(%q) accepted unknown ID %q", value, id)
				}
			}
		}
	})
}

func TestSeverities(t *testing.T) {
	fs := []lint.Finding{
		{ID: "BH-LINT-001", Severity: model.SeverityWarning},
		{ID: "BH-LINT-008", Severity: model.SeverityError},
		{ID: "BH-LINT-009", Severity: model.SeverityInfo},
		{ID: "BH-LINT-008", Severity: model.SeverityError, Suppressed: true},
		{ID: "BH-LINT-008", Severity: model.SeverityError, Baselined: true},
	}
	for _, tt := range []struct {
		level string
		n     int
	}{{"error", 1}, {"warning", 2}, {"info", 3}, {"none", 0}} {
		sev, err := lint.ParseSeverity(tt.level)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(lint.Failing(fs, sev)); got != tt.n {
			t.Errorf("Failing(%s) = %d findings, want %d", tt.level, got, tt.n)
		}
	}
	if _, err := lint.ParseSeverity("fatal"); err == nil {
		t.Error("ParseSeverity accepted fatal")
	}
	if got, want := lint.Count(fs).String(), "1 error, 1 warning, 1 info (1 suppressed, 1 in the baseline)"; got != want {
		t.Errorf("Count = %q, want %q", got, want)
	}
}
