//go:build linux

package labrun

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/lab"
	"github.com/bulkhead/bulkhead/model"
)

var (
	randomCount = flag.Int("labrun.random", 100, "random clusters the differential suite runs (8 with -short)")
	randomSeed  = flag.Uint64("labrun.seed", 0, "run the random differential test for this one seed only (reproduces a failure)")
	randomBase  = flag.Uint64("labrun.seedbase", 1, "first seed of the random differential test")
)

// testConcurrency bounds the probes in flight per lab: two labs run at
// once, next to other packages' tests, and at the lab's default of 1024
// a loaded machine stalls probes for longer than their timeout.
const testConcurrency = 256

// requireRoot skips, loudly, where the test cannot create namespaces.
func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("SKIPPED: the differential lab test creates network namespaces and nftables rules and needs root " +
			"(CAP_SYS_ADMIN, CAP_NET_ADMIN): run `sudo go test ./labrun/` (CI runs as root, so there it runs)")
	}
}

var prefixSeq atomic.Int32

// testPrefix returns a lab prefix no other test or process shares.
func testPrefix() string {
	return fmt.Sprintf("bhd%d-%d-", os.Getpid(), prefixSeq.Add(1))
}

// differential builds snap's lab with the agent's rules, probes it,
// deletes it and fails on any mismatch, probe error or leftover
// namespace, printing the report and the manifests.
func differential(t *testing.T, snap *model.Snapshot, opts eval.Options, manifests string) *Report {
	t.Helper()
	requireRoot(t)
	prefix := testPrefix()
	s, err := Build(snap, Options{Prefix: prefix, Eval: opts, Concurrency: testConcurrency})
	if err != nil {
		t.Fatalf("Build: %v\nmanifests:\n%s", err, manifests)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	r, err := Run(ctx, s, Agent, nil)
	if left, lerr := lab.List(prefix); lerr != nil || len(left) > 0 {
		t.Errorf("after Run, namespaces %v are left (err %v)", left, lerr)
		lab.Cleanup(prefix)
	}
	if err != nil {
		t.Fatalf("Run: %v\nmanifests:\n%s", err, manifests)
	}
	var b bytes.Buffer
	r.WriteText(&b, s)
	if !r.OK() {
		t.Errorf("the kernel and the engine disagree:\n%s\nmanifests:\n%s", b.String(), manifests)
	} else {
		t.Logf("%s(%v)", b.String(), time.Since(start).Round(time.Millisecond))
	}
	if r.Compared == 0 {
		t.Errorf("nothing compared")
	}
	return r
}

// TestPrivilegedDifferentialSemantics runs every semantic scenario of the
// engine (eval/testdata/semantics) in the lab with the agent's rules.
func TestPrivilegedDifferentialSemantics(t *testing.T) {
	requireRoot(t)
	files, err := filepath.Glob(repoPath(t, "eval/testdata/semantics/*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var opts eval.Options
			dir := t.TempDir()
			var text strings.Builder
			for _, f := range ar.Files {
				switch f.Name {
				case "flags":
					for _, fl := range strings.Fields(string(f.Data)) {
						switch fl {
						case "ipblock-external-only":
							opts.IPBlockExternalOnly = true
						default:
							t.Fatalf("unknown flag %q", fl)
						}
					}
				case "want", "explain":
				default:
					if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(&text, "-- %s --\n%s", f.Name, f.Data)
				}
			}
			differential(t, loadPaths(t, dir), opts, text.String())
		})
	}
}

// TestPrivilegedDifferentialExamples runs the bundled examples.
func TestPrivilegedDifferentialExamples(t *testing.T) {
	requireRoot(t)
	for _, ex := range []string{"shop", "multi-tenant"} {
		t.Run(ex, func(t *testing.T) {
			t.Parallel()
			path := repoPath(t, filepath.Join("examples", ex))
			differential(t, loadPaths(t, path), eval.Options{}, "(see "+path+")")
		})
	}
}

// TestPrivilegedDifferentialRandom runs seeded random clusters (see
// randomCluster): seeds -labrun.seedbase onwards, -labrun.random of them,
// or the one -labrun.seed. A failure prints its seed and manifests;
// `go test ./labrun -run TestPrivilegedDifferentialRandom -labrun.seed N`
// reruns it.
func TestPrivilegedDifferentialRandom(t *testing.T) {
	requireRoot(t)
	n := *randomCount
	if testing.Short() {
		n = min(n, 8)
	}
	seeds := make([]uint64, 0, n)
	for i := range uint64(n) {
		seeds = append(seeds, *randomBase+i)
	}
	if *randomSeed != 0 {
		seeds = []uint64{*randomSeed}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			text := randomCluster(seed)
			snap := loadText(t, fmt.Sprintf("seed-%d.yaml", seed), text)
			opts := randomOptions(seed)
			differential(t, snap, opts, fmt.Sprintf("# seed %d, engine options %+v\n%s", seed, opts, text))
		})
	}
}
