package test_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/cli/clitest"
	"github.com/bulkhead/bulkhead/internal/testutil"
	junit "github.com/joshdk/go-junit"
)

const (
	pass = "../../../examples/specs/shop.yaml"
	fail = "../../../examples/specs/shop-failing.yaml"
	shop = "../../../examples/shop"
)

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"shop.txt", []string{"test", pass}, 0},
		{"shop.tap", []string{"test", pass, "-o", "tap"}, 0},
		{"shop-failing.txt", []string{"test", fail}, 1},
		{"shop-failing.json", []string{"test", fail, "-o", "json"}, 1},
		{"shop-failing.junit.xml", []string{"test", fail, "-o", "junit"}, 1},
		{"shop-failing.tap", []string{"test", fail, "-o", "tap"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := clitest.Run(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			testutil.Golden(t, tt.name+".golden", []byte(out))
		})
	}
}

// junitDoc is the JUnit XML shape CI systems read.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestJUnitParses reads the JUnit output back with encoding/xml and with
// github.com/joshdk/go-junit, a reader CI tools use, and checks the counts
// against the text output.
func TestJUnitParses(t *testing.T) {
	for _, spec := range []string{pass, fail} {
		out, _, code := clitest.Run(t, "", "test", spec, "-o", "junit")
		txt, _, _ := clitest.Run(t, "", "test", spec)
		wantFailed := strings.Count(txt, "FAIL  ")
		wantTests := wantFailed + strings.Count(txt, "PASS  ")
		if (code == 1) != (wantFailed > 0) {
			t.Errorf("%s: exit %d with %d failures", spec, code, wantFailed)
		}
		var d junitDoc
		if err := xml.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("%s: encoding/xml: %v", spec, err)
		}
		if d.Tests != wantTests || d.Failures != wantFailed || len(d.Suites) != 1 || len(d.Suites[0].Cases) != wantTests {
			t.Errorf("%s: testsuites tests=%d failures=%d suites=%d; want %d tests, %d failures", spec, d.Tests, d.Failures, len(d.Suites), wantTests, wantFailed)
		}
		failed := 0
		for _, c := range d.Suites[0].Cases {
			if c.Name == "" || c.Classname == "" {
				t.Errorf("%s: test case without a name or classname: %+v", spec, c)
			}
			if c.Failure != nil {
				failed++
				if c.Failure.Message == "" || !strings.Contains(c.Failure.Body, c.Failure.Message) {
					t.Errorf("%s: failure of %q has no message or body", spec, c.Name)
				}
			}
		}
		if failed != wantFailed {
			t.Errorf("%s: %d <failure> elements, want %d", spec, failed, wantFailed)
		}

		suites, err := junit.Ingest([]byte(out))
		if err != nil {
			t.Fatalf("%s: go-junit: %v", spec, err)
		}
		if len(suites) != 1 {
			t.Fatalf("%s: go-junit reads %d suites, want 1", spec, len(suites))
		}
		s := suites[0]
		if s.Totals.Tests != wantTests || s.Totals.Failed != wantFailed || s.Totals.Passed != wantTests-wantFailed {
			t.Errorf("%s: go-junit totals %+v; want %d tests, %d failed", spec, s.Totals, wantTests, wantFailed)
		}
		for _, tc := range s.Tests {
			if tc.Status == junit.StatusFailed && tc.Error == nil {
				t.Errorf("%s: go-junit: failed test %q without an error", spec, tc.Name)
			}
		}
	}
}

// TestTAP checks the TAP stream's plan and test lines against the results.
func TestTAP(t *testing.T) {
	out, _, _ := clitest.Run(t, "", "test", fail, "-o", "tap")
	lines := strings.Split(out, "\n")
	if lines[0] != "TAP version 13" || lines[1] != "1..5" {
		t.Fatalf("TAP header: %q %q", lines[0], lines[1])
	}
	var ok, notOK int
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "ok "):
			ok++
		case strings.HasPrefix(l, "not ok "):
			notOK++
		}
	}
	if ok != 2 || notOK != 3 {
		t.Errorf("ok %d, not ok %d; want 2 and 3", ok, notOK)
	}
}

func TestJUnitFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.xml")
	out, _, code := clitest.Run(t, "", "test", fail, "--junit-file", path)
	if code != 1 || !strings.Contains(out, "FAIL  only orders reaches postgres") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	junitOut, _, _ := clitest.Run(t, "", "test", fail, "-o", "junit")
	if string(b) != junitOut {
		t.Error("--junit-file differs from -o junit")
	}
}

// TestManifestsArgument runs the passing spec against other manifests
// given on the command line: the fixed shop breaks one test.
func TestManifestsArgument(t *testing.T) {
	out, _, code := clitest.Run(t, "", "test", pass, shop, "-o", "json")
	if code != 0 {
		t.Fatalf("the shop itself: exit %d", code)
	}
	dir := t.TempDir()
	for _, f := range []string{"namespaces.yaml", "workloads.yaml", "policies.yaml"} {
		b, err := os.ReadFile(filepath.Join(shop, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "policies.yaml" {
			// Remove the storefront's policy: it no longer reaches the backends.
			i := bytes.Index(b, []byte("metadata: {name: storefront, namespace: shop-frontend}"))
			j := bytes.Index(b[i:], []byte("---"))
			b = append(b[:i:i], append([]byte("metadata: {name: other, namespace: shop-frontend}\nspec: {podSelector: {matchLabels: {app: none}}}\n"), b[i+j:]...)...)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, _, code = clitest.Run(t, "", "test", pass, dir, "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	var res struct {
		Failed  int
		Results []struct {
			Name   string
			Passed bool
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, r := range res.Results {
		if !r.Passed {
			failed = append(failed, r.Name)
		}
	}
	want := "the public reaches the storefront on http,the storefront calls the backend APIs"
	if strings.Join(failed, ",") != want {
		t.Errorf("failed tests %v, want %s", failed, want)
	}
}

func TestInvalidSpec(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	bad := `apiVersion: bulkhead.dev/v1
kind: ConnectivityTest
metadata: {name: bad}
manifests: [` + filepath.Join("..", "..", "..", "..") + `]
tests:
- name: typo
  from: {namespce: shop}
  to: shop/web
  expect: allow
- name: bad port
  from: shop/a
  to: shop/b
  ports: [80/ICMP]
  expect: allow
`
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := clitest.Run(t, "", "test", path, shop)
	if code != 2 || out != "" {
		t.Fatalf("exit %d, stdout %q; want 2 and no result", code, out)
	}
	for _, want := range []string{"bad.yaml:7", "tests[0].from.namespce", `did you mean "namespace"`, "bad.yaml:13", "tests[1].ports", "ICMP"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"test"},
		{"test", "/no/such/spec.yaml"},
		{"test", pass, "-o", "xml"},
		{"test", pass, "/no/such/manifests"},
	} {
		_, errOut, code := clitest.Run(t, "", args...)
		if code != 2 || !strings.Contains(errOut, "error") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and an error", args, code, errOut)
		}
	}
}
