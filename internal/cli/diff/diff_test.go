package diff_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/cli/clitest"
	"github.com/bulkhead/bulkhead/internal/testutil"
)

const (
	shop    = "../../../examples/shop"
	shopNew = "testdata/shop-new"
)

// TestGolden compares two versions of the shop: testdata/shop-new fixes
// the postgres OR mistake, moves the payments ipBlock's except, adds a
// forgotten debug policy and a search workload.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"diff.txt", []string{"diff", shop, shopNew}},
		{"diff.json", []string{"diff", shop, shopNew, "-o", "json"}},
		{"diff.md", []string{"diff", shop, shopNew, "-o", "md"}},
		{"diff-limit.md", []string{"diff", shop, shopNew, "-o", "md", "--limit", "3"}},
		{"diff-reverse.txt", []string{"diff", shopNew, shop}},
		{"diff-same.txt", []string{"diff", shop, shop}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := clitest.Run(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			testutil.Golden(t, tt.name+".golden", []byte(out))
		})
	}
}

func TestFailOn(t *testing.T) {
	tests := []struct {
		old, new, failOn string
		want             int
	}{
		{shop, shopNew, "added", 1},
		{shop, shopNew, "removed", 1},
		{shop, shopNew, "any", 1},
		{shop, shop, "any", 0},
		{shop, shop, "added", 0},
		{shop, shopNew, "", 0},
		{shop, shopNew, "bogus", 2},
	}
	for _, tt := range tests {
		_, errOut, code := clitest.Run(t, "", "diff", tt.old, tt.new, "--fail-on", tt.failOn)
		if code != tt.want {
			t.Errorf("diff %s %s --fail-on %q: exit %d, want %d (stderr: %s)", tt.old, tt.new, tt.failOn, code, tt.want, errOut)
		}
	}
}

// TestFailOnDirection checks that --fail-on added ignores a change that
// only removes connections.
func TestFailOnDirection(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"namespaces.yaml", "workloads.yaml", "policies.yaml"} {
		b, err := os.ReadFile(filepath.Join(shop, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "policies.yaml" {
			// Fix the OR mistake only: connections to postgres go away.
			b = bytes.Replace(b, []byte("    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop-backend}}\n    - podSelector: {matchLabels: {app: orders}}"),
				[]byte("    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop-backend}}\n      podSelector: {matchLabels: {app: orders}}"), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, errOut, code := clitest.Run(t, "", "diff", shop, dir, "--fail-on", "added"); code != 0 {
		t.Errorf("--fail-on added on a change that only removes: exit %d (%s)", code, errOut)
	}
	if _, _, code := clitest.Run(t, "", "diff", shop, dir, "--fail-on", "removed"); code != 1 {
		t.Errorf("--fail-on removed on a change that removes: exit %d, want 1", code)
	}
	if _, _, code := clitest.Run(t, "", "diff", dir, shop, "--fail-on", "added"); code != 1 {
		t.Errorf("--fail-on added on the reverse change: exit %d, want 1", code)
	}
}

func gitCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGit builds a repository with the shop at one commit and shop-new at
// the next, and checks that --git gives the same connection changes as
// comparing the directories, with sources named REV:path.
func TestGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIPPING: git is not installed; --git needs it")
	}
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	shopAbs, newAbs := abs(shop), abs(shopNew)
	repo := t.TempDir()
	gitCmd(t, repo, "init", "-q", "-b", "main")
	copyDir(t, shopAbs, filepath.Join(repo, "deploy"))
	if err := os.WriteFile(filepath.Join(repo, "deploy", "README.md"), []byte("not a manifest\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, repo, "add", ".")
	gitCmd(t, repo, "commit", "-q", "-m", "shop")
	gitCmd(t, repo, "checkout", "-q", "-b", "change")
	copyDir(t, newAbs, filepath.Join(repo, "deploy"))
	gitCmd(t, repo, "add", ".")
	gitCmd(t, repo, "commit", "-q", "-m", "change")
	t.Chdir(repo)

	want, errOut, code := clitest.Run(t, "", "diff", shopAbs, newAbs, "-o", "json")
	if code != 0 {
		t.Fatalf("diff of directories: exit %d: %s", code, errOut)
	}
	type doc struct {
		Summary     map[string]int
		Connections []struct {
			Change, Src, Dst string
			Causes           []struct{ Ref string }
		}
		Policies []struct{ OldSource, NewSource string }
	}
	parse := func(s string) doc {
		var d doc
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
		return d
	}
	wantDoc := parse(want)
	for _, rng := range []string{"main..change", "main...change", "main"} {
		got, errOut, code := clitest.Run(t, "", "diff", "--git", rng, "deploy", "-o", "json")
		if code != 0 {
			t.Fatalf("--git %s: exit %d: %s", rng, code, errOut)
		}
		gotDoc := parse(got)
		if len(gotDoc.Connections) != len(wantDoc.Connections) || len(gotDoc.Connections) == 0 {
			t.Fatalf("--git %s: %d connection changes, want %d", rng, len(gotDoc.Connections), len(wantDoc.Connections))
		}
		for i := range wantDoc.Connections {
			w, g := wantDoc.Connections[i], gotDoc.Connections[i]
			if w.Change != g.Change || w.Src != g.Src || w.Dst != g.Dst || len(w.Causes) != len(g.Causes) {
				t.Errorf("--git %s: change %d = %+v, want %+v", rng, i, g, w)
			}
		}
		if rng != "main" && !strings.HasPrefix(gotDoc.Policies[0].NewSource, "change:deploy/policies.yaml:") {
			t.Errorf("--git %s: sources not named REV:path: %+v", rng, gotDoc.Policies[0])
		}
	}
	// The working tree is the new side of --git REV alone: without
	// policies, everything is allowed.
	if err := os.RemoveAll(filepath.Join(repo, "deploy", "policies.yaml")); err != nil {
		t.Fatal(err)
	}
	out, _, code := clitest.Run(t, "", "diff", "--git", "change", "deploy", "--fail-on", "added")
	if code != 1 || !strings.Contains(out, "- NetworkPolicy shop-data/redis-debug (change:deploy/policies.yaml:") {
		t.Errorf("--git change against a working tree without policies: exit %d, output:\n%s", code, out)
	}
	// A path that exists at neither revision compares nothing with nothing.
	_, errOut, code = clitest.Run(t, "", "diff", "--git", "main..change", "nope")
	if code != 0 || !strings.Contains(errOut, "no manifests") {
		t.Errorf("missing path: exit %d, stderr %q", code, errOut)
	}
	for _, bad := range [][]string{{"--git", "nosuchrev..change", "deploy"}, {"--git", "main..", "deploy"}, {"--git", "main..change"}, {"--git", "main..change", "../x"}} {
		if _, errOut, code := clitest.Run(t, "", append([]string{"diff"}, bad...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %s)", bad, code, errOut)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"diff"},
		{"diff", shop},
		{"diff", shop, shopNew, "extra"},
		{"diff", shop, shopNew, "-o", "csv"},
		{"diff", shop, "/no/such/dir"},
	} {
		_, errOut, code := clitest.Run(t, "", args...)
		if code != 2 || !strings.Contains(errOut, "error") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and an error", args, code, errOut)
		}
	}
}
