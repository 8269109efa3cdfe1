package report_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/internal/cli/clitest"
	"github.com/bulkhead/bulkhead/internal/testutil"
)

// root is the repository root: the commands run from there
// (clitest.RunIn), so that paths in outputs read as a user would see them.
const root = "../../.."

// TestGolden compares the page written to standard output with
// testdata/*.golden (go test ./internal/cli/report -update rewrites them;
// open them in a browser to review).
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"shop.html", []string{"report", "examples/shop", "--spec", "examples/specs/shop-failing.yaml", "-o", "-", "--generated", "fixed"}},
		{"lint-mistakes.html", []string{"report", "examples/lint/mistakes", "-o", "-", "--generated", "fixed", "--title", "lint mistakes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := clitest.RunIn(t, root, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			testutil.Golden(t, tt.name+".golden", []byte(out))
		})
	}
}

func TestWritesReport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "shop.html")
	_, errOut, code := clitest.RunIn(t, root, "report", "examples/shop", "--spec", "examples/specs/shop-failing.yaml", "-o", out, "--generated", "fixed")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Generated fixed.", `class="test fail"`, `class="finding warning"`, "shop-data/postgres"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the report has no %q", want)
		}
	}
	// The spec's own manifests are used when no path is given.
	stdout, _, code := clitest.RunIn(t, root, "report", "--spec", "examples/specs/shop.yaml", "-o", "-", "--generated", "fixed", "--no-lint")
	if code != 0 || !strings.Contains(stdout, "shop-segmentation") || !strings.Contains(stdout, "The lint was not run.") {
		t.Errorf("report of the spec's manifests to stdout: exit %d", code)
	}
	stdout, _, code = clitest.RunIn(t, root, "report", "examples/shop", "-o", "-", "--no-exposure")
	if code != 0 || !strings.Contains(stdout, "The exposure was not computed") || strings.Contains(stdout, `class="exposure-row"`) {
		t.Errorf("--no-exposure: exit %d, or the exposure is still there", code)
	}
}

func TestReportErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: bulkhead.dev/v1\nkind: ConnectivityTest\ntests: [{from: a/b}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.html")
	for _, args := range [][]string{
		{"report", "examples/shop"},
		{"report", "examples/shop", "--spec", bad, "-o", out},
		{"report", "examples/shop", "--spec", "no/such.yaml", "-o", out},
		{"report", "no/such/dir", "-o", out},
		{"report", "examples/shop", "--baseline", "no/such.json", "-o", out},
	} {
		if _, errOut, code := clitest.RunIn(t, root, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr:\n%s", args, code, errOut)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s behind", out)
	}
	if _, _, code := clitest.RunIn(t, root, "report", "examples/shop", "-o", filepath.Join(dir, "missing-dir", "r.html")); code == 0 {
		t.Error("writing into a missing directory succeeded")
	}
}

// chromium returns the path of the Chromium binary, or fails (as root,
// which CI is, and where hack/test.sh installs it) or skips loudly.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Geteuid() == 0 {
		t.Fatal("chromium is not installed: apt-get install -y chromium (hack/test.sh installs it)")
	}
	t.Skip("SKIPPING the browser test: chromium is not installed and this user cannot install it (apt-get install -y chromium as root)")
	return ""
}

// headless runs Chromium without any network use and returns stdout.
func headless(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

// TestChromiumRendersReport opens the shop's report in headless Chromium:
// after the page's script has run, the DOM holds the graph's nodes and
// edges, every matrix cell, the findings and the failed tests, with the
// badges the script fills in; and a screenshot of the page is not blank.
// With -update, the screenshot is saved as docs/report.png.
func TestChromiumRendersReport(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "shop.html")
	if _, errOut, code := clitest.RunIn(t, root, "report", "examples/shop", "--spec", "examples/specs/shop-failing.yaml", "-o", page, "--generated", "2026-11-25 12:00 UTC"); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, errOut)
	}
	url := "file://" + page
	dom := headless(t, bin, "--virtual-time-budget=3000", "--dump-dom", url)
	count := func(re string) int { return len(regexp.MustCompile(re).FindAllString(dom, -1)) }
	checks := []struct {
		what string
		got  int
		want int
	}{
		{"script ran (body data-ready)", count(`<body[^>]* data-ready="1"`), 1},
		{"graph nodes: 12 workloads and 2 outside ranges", count(`<g class="node `), 14},
		{"graph edges: one per allowed connection", count(`<path class="edge `), 52},
		{"namespace boxes and the outside box", count(`<g class="box `), 6},
		{"matrix cells: 12 x 12", count(`<td class="cell `), 144},
		{"finding rows", count(`<tr class="finding `), 3},
		{"failed tests", count(`<tr class="test fail"`), 3},
		{"findings count set by the script", count(`data-findings="3"`), 1},
		{"lint badge filled by the script", count(`id="lint-badge">3<`), 1},
		{"tests badge filled by the script", count(`id="tests-badge">3/5 failed<`), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}

	shot := filepath.Join(dir, "report.png")
	headless(t, bin, "--screenshot="+shot, "--window-size=1400,1000", url)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1400 || b.Dy() != 1000 {
		t.Errorf("screenshot is %v, want 1400x1000", b)
	}
	if n := colours(img); n < 20 {
		t.Errorf("the screenshot has %d colours: the page did not render", n)
	}
	if testutil.Updating() {
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../../docs/report.png", data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// colours counts the distinct colours of a sample of pixels.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}
