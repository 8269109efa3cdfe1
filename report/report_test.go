package report_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/synth/synthtest"
	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/lint"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/bulkhead/bulkhead/report"
	"github.com/bulkhead/bulkhead/spec"
)

func loadDir(t testing.TB, paths ...string) *eval.Engine {
	t.Helper()
	res, err := manifest.Load(paths, nil, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if errs := res.Snapshot.Errors(); len(errs) > 0 {
		t.Fatalf("invalid input: %v", errs[0].Error())
	}
	return eval.New(res.Snapshot, eval.Options{})
}

func runSpec(t testing.TB, e *eval.Engine, file string, data []byte) *spec.Results {
	t.Helper()
	if data == nil {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			t.Fatal(err)
		}
	}
	s, problems := spec.Parse(file, data)
	if len(problems) > 0 {
		t.Fatalf("spec: %v", problems[0].Error())
	}
	return spec.Run(s, e)
}

// shopPage renders the shop with its lint findings and the failing spec.
func shopPage(t *testing.T) string {
	e := loadDir(t, "../examples/shop")
	res, err := lint.Run(e, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := report.Input{Engine: e, Findings: res.Findings, LintRan: true, Tests: runSpec(t, e, "../examples/specs/shop-failing.yaml", nil)}
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, in, report.Options{Sources: []string{"examples/shop"}, Generated: "2026-01-01 00:00 UTC"}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestGoldenShop compares the shop's page with testdata/shop.html.golden
// (go test ./report -update rewrites it; open it in a browser to review).
func TestGoldenShop(t *testing.T) {
	testutil.Golden(t, "shop.html.golden", []byte(shopPage(t)))
}

// TestSelfContained checks that the page references nothing outside
// itself: no URL, no external script, style sheet, image or font.
func TestSelfContained(t *testing.T) {
	page := shopPage(t)
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)\b(?:https?|ftp|wss?):/`),
		regexp.MustCompile(`(?i)\bsrc\s*=`),
		regexp.MustCompile(`(?i)<link\b`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)url\((?:[^#)]|#[^a])`),
		regexp.MustCompile(`(?i)\b(?:href|action)\s*=\s*"(?:[^#"]|$)`),
		regexp.MustCompile(`//[a-z0-9.-]+\.[a-z]{2,}/`),
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("the page refers outside itself: %q matches %s", m, bad)
		}
	}
	for _, want := range []string{"<style>", "<script>", "<svg", `id="graph-svg"`, `class="matrix"`, `id="lint-table"`, `id="tests-table"`, `id="exposure-table"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page has no %s", want)
		}
	}
}

// TestEscaping puts markup in a spec's test name: the page shows it as
// text.
func TestEscaping(t *testing.T) {
	e := loadDir(t, "../examples/shop")
	data := []byte(`apiVersion: bulkhead.dev/v1
kind: ConnectivityTest
metadata: {name: "x<b>y"}
tests:
- name: "<script>alert(1)</script>"
  from: shop-frontend/storefront
  to: shop-data/postgres
  expect: deny
`)
	in := report.Input{Engine: e, Tests: runSpec(t, e, "evil.yaml", data)}
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, in, report.Options{Title: `a "title" <i>`}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<b>y") || strings.Contains(page, "<i>") {
		t.Error("markup from the input reached the page unescaped")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the test name is not shown")
	}
}

// TestMatrixAgreesWithEngine reads every cell of the shop's matrix back
// and compares it with the engine's answer for the pair.
func TestMatrixAgreesWithEngine(t *testing.T) {
	e := loadDir(t, "../examples/shop")
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, report.Input{Engine: e}, report.Options{}); err != nil {
		t.Fatal(err)
	}
	var pods []*model.Endpoint
	for _, ep := range e.Endpoints() {
		if ep.IsPodLike() {
			pods = append(pods, ep)
		}
	}
	cells := regexp.MustCompile(`<td class="cell (\w+)"`).FindAllStringSubmatch(buf.String(), -1)
	if len(cells) != len(pods)*len(pods) {
		t.Fatalf("%d cells, want %d", len(cells), len(pods)*len(pods))
	}
	for i, src := range pods {
		for j, dst := range pods {
			allowed, unknown := e.Allowed(src, dst)
			want := "some"
			switch {
			case src == dst:
				want = "self"
			case allowed.IsAll():
				want = "all"
			case allowed.IsEmpty() && unknown.IsEmpty():
				want = "none"
			case allowed.IsEmpty():
				want = "unknown"
			}
			if got := cells[i*len(pods)+j][1]; got != want {
				t.Errorf("%s -> %s: cell %q, want %q (allowed %s)", src.ID(), dst.ID(), got, want, allowed)
			}
		}
	}
	edges := strings.Count(buf.String(), `<path class="edge`)
	if n := e.Connectivity().Count(); edges != n {
		t.Errorf("%d edges in the graph, want one per allowed connection: %d", edges, n)
	}
}

// TestPerNamespace renders a generated cluster larger than Detailed: the
// graph and the matrix show namespaces, and their numbers add up.
func TestPerNamespace(t *testing.T) {
	e := eval.New(synthtest.Snapshot(t, synth.Config{Pods: 1000, Policies: 200, Seed: 3}), eval.Options{})
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, report.Input{Engine: e}, report.Options{Detailed: 100}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	nss := map[string]bool{}
	for _, ep := range e.Endpoints() {
		if ep.IsPodLike() {
			nss[ep.Namespace] = true
		}
	}
	if got := strings.Count(page, `<td class="cell`); got != len(nss)*len(nss) {
		t.Errorf("%d matrix cells, want %d namespaces squared", got, len(nss))
	}
	if !strings.Contains(page, "by namespace") || !strings.Contains(page, "are shown one by one") {
		t.Error("the page does not say it shows namespaces")
	}
	// The pod pairs the matrix titles count add up to every allowed
	// connection between pods.
	total := 0
	for _, m := range regexp.MustCompile(`: (\d+) of \d+ pod pairs allowed`).FindAllStringSubmatch(page, -1) {
		n := 0
		for _, d := range m[1] {
			n = n*10 + int(d-'0')
		}
		total += n
	}
	want := 0
	e.Connectivity().Each(func(c eval.Conn) bool {
		if c.Src.IsPodLike() && c.Dst.IsPodLike() {
			want++
		}
		return true
	})
	if total != want {
		t.Errorf("the matrix counts %d pod pairs, the engine %d", total, want)
	}
}
