package manifest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/model"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

// summary renders what a load produced, one line per fact, for golden
// comparisons.
func summary(r *Result) string {
	var b strings.Builder
	s := r.Snapshot
	for _, f := range r.Files {
		fmt.Fprintf(&b, "file %s\n", f)
	}
	for _, name := range s.NamespaceNames() {
		ns := s.Namespaces[name]
		fmt.Fprintf(&b, "namespace %s declared=%v labels=%s src=%s\n", name, ns.Declared, labelString(ns.Labels), ns.Source.Location())
	}
	for _, n := range s.Nodes {
		fmt.Fprintf(&b, "node %s ips=%v labels=%s src=%s\n", n.Name, n.IPs, labelString(n.Labels), n.Source.Location())
	}
	for _, e := range s.Endpoints {
		var ports []string
		for _, p := range e.Ports {
			ports = append(ports, fmt.Sprintf("%s:%s/%d", p.Name, p.Protocol, p.Port))
		}
		fmt.Fprintf(&b, "endpoint %s labels=%s ips=%v ports=[%s] hostNetwork=%v node=%s src=%s\n",
			e.ID(), labelString(e.Labels), e.IPs, strings.Join(ports, " "), e.HostNetwork, e.NodeName, e.Source)
	}
	for _, p := range s.Policies {
		fmt.Fprintf(&b, "policy %s tier=%s subject=%q ingress=%v egress=%v rules=%d src=%s\n",
			p.Ref(), p.Tier, p.Subject, p.IngressIsolation, p.EgressIsolation, len(p.Rules), p.Source)
	}
	var kinds []string
	for k, n := range s.Skipped {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	if len(kinds) > 0 {
		fmt.Fprintf(&b, "skipped %s\n", strings.Join(kinds, " "))
	}
	for _, sk := range r.Skipped {
		fmt.Fprintf(&b, "skip %s: %s\n", sk.Source, sk.Reason)
	}
	for _, o := range r.Objects {
		fmt.Fprintf(&b, "object %s %s\n", o.Obj.GetObjectKind().GroupVersionKind().GroupVersion(), o.Source)
	}
	for _, p := range s.Problems {
		fmt.Fprintf(&b, "%s: %s\n", p.Severity, p.Error())
	}
	return b.String()
}

func labelString(ls map[string]string) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+ls[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// TestLoadScenarios loads each testdata/load/*.txtar archive: its files
// are written to a temporary directory, loaded with the paths of its
// "-- args --" section (default "."), and the summary must equal its
// "-- want --" section. Run with -update to rewrite the want sections.
func TestLoadScenarios(t *testing.T) {
	archives, err := filepath.Glob(filepath.Join("testdata", "load", "*.txtar"))
	if err != nil || len(archives) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, path := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			args := []string{"."}
			var stdin []byte
			wantIdx := -1
			for i, f := range ar.Files {
				switch f.Name {
				case "want":
					wantIdx = i
				case "args":
					args = strings.Fields(string(f.Data))
				case "stdin":
					stdin = f.Data
				default:
					p := filepath.Join(dir, filepath.FromSlash(f.Name))
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Paths in sources are relative to the archive's root.
			t.Chdir(dir)
			r, err := Load(args, bytes.NewReader(stdin), Options{})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := summary(r)
			// The same input decoded on one worker gives the same result.
			r1, err := Load(args, bytes.NewReader(stdin), Options{Workers: 1})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(got, summary(r1)); diff != "" {
				t.Errorf("result depends on the number of workers (-many +one):\n%s", diff)
			}
			checkProblems(t, r.Snapshot)

			if testutil.Updating() {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = []byte(got)
				if err := os.WriteFile(filepath.Join(testRoot, path), txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if wantIdx < 0 {
				t.Fatalf("%s has no want section (run with -update)", path)
			}
			if diff := cmp.Diff(string(ar.Files[wantIdx].Data), got); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
			}
		})
	}
}

var testRoot, _ = os.Getwd()

// checkProblems checks what every problem must carry: a severity, a
// message, a file, and a line or an object.
func checkProblems(t testing.TB, s *model.Snapshot) {
	t.Helper()
	for _, p := range s.Problems {
		if p.Severity == model.SeverityUnknown || p.Msg == "" || p.Source.File == "" ||
			(p.Source.Line <= 0 && p.Source.Name == "" && p.Source.Kind == "") {
			t.Errorf("problem lacks severity, message, file, or line and object: %#v", p)
		}
	}
}

// TestLoadExamples loads the repository's examples, each directory's
// manifests on their own (an example is a directory), which must load
// without an error.
func TestLoadExamples(t *testing.T) {
	root := filepath.Join("..", "..", "examples")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("SKIPPED: no examples directory at %s: %v", root, err)
	}
	byDir := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && manifestExt(path) {
			byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir, files := range byDir {
		t.Run(dir, func(t *testing.T) {
			r, err := Load(files, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range r.Snapshot.Errors() {
				t.Errorf("problem: %s", p.Error())
			}
		})
	}
}
