package eval_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

// TestSemantics runs every scenario under testdata/semantics: manifests,
// optional engine flags, the expected connections (hand-written, one per
// line, "SRC -> DST: CONNECTIONS", in any order) and optional explain
// expectations ("SRC -> DST PORT/PROTO: allowed|denied|unknown").
func TestSemantics(t *testing.T) {
	files, err := filepath.Glob("testdata/semantics/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			runScenario(t, file)
		})
	}
}

func runScenario(t *testing.T, file string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var opts eval.Options
	var want, explain []string
	haveWant := false
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
		case "want":
			haveWant = true
			want = lines(f.Data)
		case "explain":
			explain = lines(f.Data)
		default:
			if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := manifest.Load([]string{dir}, nil, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Snapshot.Problems {
		t.Fatalf("problem in scenario input: %v", p.Error())
	}
	e := eval.New(res.Snapshot, opts)
	if haveWant {
		var got []string
		e.Connectivity().Each(func(c eval.Conn) bool {
			got = append(got, fmt.Sprintf("%s -> %s: %s", c.Src.ID(), c.Dst.ID(), c.Allowed))
			return true
		})
		// Order is the renderers' business (golden tests); here the set.
		slices.Sort(want)
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("connections mismatch (-want +got):\n%s", diff)
		}
	}
	for _, ep := range e.Endpoints() {
		if allowed, _ := e.Allowed(ep, ep); !allowed.IsAll() {
			t.Errorf("%s cannot reach itself: %v", ep.ID(), allowed)
		}
	}
	for _, line := range explain {
		checkExplain(t, e, line)
	}
}

// checkExplain checks one "SRC -> DST PORT/PROTO: verdict" line with both
// Explain and Allowed.
func checkExplain(t *testing.T, e *eval.Engine, line string) {
	t.Helper()
	lhs, verdict, ok := strings.Cut(line, ": ")
	f := strings.Fields(lhs)
	if !ok || len(f) != 4 || f[1] != "->" {
		t.Fatalf("bad explain line %q", line)
	}
	find := func(ref string) *model.Endpoint {
		if a, err := netip.ParseAddr(ref); err == nil {
			return e.EndpointForIP(a)
		}
		return e.Lookup(ref)
	}
	src, dst := find(f[0]), find(f[2])
	if src == nil || dst == nil {
		t.Fatalf("explain line %q: unknown endpoint", line)
	}
	num, proto, _ := strings.Cut(f[3], "/")
	p, err := model.ParseProtocol(proto)
	if err != nil {
		t.Fatal(err)
	}
	port, err := model.ParsePortRange(num)
	if err != nil {
		t.Fatal(err)
	}
	scope := model.ConnsOf(p, model.SinglePort(port.First))
	d := e.Explain(src, dst, scope)
	got := "denied"
	switch {
	case d.Allowed.Equal(scope):
		got = "allowed"
	case !d.Unknown.IsEmpty():
		got = "unknown"
	}
	if got != verdict {
		t.Errorf("%s: explain says %s", line, got)
	}
	allowed, _ := e.Allowed(src, dst)
	if allowed.Contains(p, port.First) != (got == "allowed") {
		t.Errorf("%s: Allowed says %v", line, allowed)
	}
}

func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
