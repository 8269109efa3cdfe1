package audit_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/audit"
	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

// TestChecks runs every check on its failing and passing manifests,
// testdata/checks/<ID>.txtar: the files fail.yaml and pass.yaml, and want,
// the findings fail.yaml must produce ("subject [container]: msg" lines).
// pass.yaml must produce none. With -update, want is rewritten from what
// the check reports; review the diff.
func TestChecks(t *testing.T) {
	for _, chk := range audit.Checks() {
		t.Run(chk.ID, func(t *testing.T) {
			path := filepath.Join("testdata", "checks", chk.ID+".txtar")
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatalf("every check needs %s with fail.yaml, pass.yaml and want: %v", path, err)
			}
			files := map[string][]byte{}
			for _, f := range ar.Files {
				files[f.Name] = f.Data
			}
			for _, name := range []string{"fail.yaml", "pass.yaml"} {
				if len(files[name]) == 0 {
					t.Fatalf("%s: no %s", path, name)
				}
			}
			cfg := audit.Config{Only: []string{chk.ID}, Now: testNow}
			fail := audit.Run(load(t, "fail.yaml", files["fail.yaml"]), cfg)
			got := describe(fail.Findings)
			if got == "" {
				t.Errorf("fail.yaml: no finding")
			}
			for _, f := range fail.Findings {
				if f.ID != chk.ID {
					t.Errorf("finding of another check: %+v", f)
				}
				if f.Source.File == "" {
					t.Errorf("finding without a source file: %+v", f)
				}
			}
			if testutil.Updating() {
				setFile(ar, "want", got)
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if diff := cmp.Diff(string(files["want"]), got); diff != "" {
				t.Errorf("fail.yaml findings (-want +got):\n%s", diff)
			}
			pass := audit.Run(load(t, "pass.yaml", files["pass.yaml"]), cfg)
			if len(pass.Findings) > 0 {
				t.Errorf("pass.yaml has findings:\n%s", describe(pass.Findings))
			}
		})
	}
}

func setFile(ar *txtar.Archive, name, data string) {
	for i := range ar.Files {
		if ar.Files[i].Name == name {
			ar.Files[i].Data = []byte(data)
			return
		}
	}
	ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(data)})
}

var idRE = regexp.MustCompile(`^BH-(NET|WL|IMG|PLT|MESH)-[0-9]{3}$`)

// TestCatalogue checks that the registry is in ID order, IDs are unique and
// well formed, and every check says what it is, why and how to fix it.
func TestCatalogue(t *testing.T) {
	checks := audit.Checks()
	ids := map[string]bool{}
	for i, c := range checks {
		if !idRE.MatchString(c.ID) {
			t.Errorf("%q: malformed ID", c.ID)
		}
		if ids[c.ID] {
			t.Errorf("%s: duplicate ID", c.ID)
		}
		ids[c.ID] = true
		if i > 0 && checks[i-1].ID >= c.ID {
			t.Errorf("%s after %s: registry not in ID order", c.ID, checks[i-1].ID)
		}
		if c.Title == "" || c.Rationale == "" || c.Remediation == "" || c.Run == nil || c.Severity == audit.SeverityUnknown || c.Category == "" {
			t.Errorf("%s: incomplete check", c.ID)
		}
		prefix := map[audit.Category]string{audit.Segmentation: "BH-NET-", audit.Workloads: "BH-WL-", audit.Images: "BH-IMG-",
			audit.Platform: "BH-PLT-", audit.Mesh: "BH-MESH-"}[c.Category]
		if !strings.HasPrefix(c.ID, prefix) {
			t.Errorf("%s: category %s wants prefix %s", c.ID, c.Category, prefix)
		}
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "checks"))
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, e := range entries {
		if id := strings.TrimSuffix(e.Name(), ".txtar"); !ids[id] {
			orphans = append(orphans, e.Name())
		}
	}
	sort.Strings(orphans)
	if len(orphans) > 0 {
		t.Errorf("test cases of no check: %v", orphans)
	}
}
