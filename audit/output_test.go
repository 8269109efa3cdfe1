package audit_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/audit"
	"github.com/bulkhead/bulkhead/render"
	"github.com/bulkhead/bulkhead/sarif/sariftest"
)

// suppressedReport audits the insecure example with one finding accepted
// in a baseline, so that every output shows active and suppressed
// findings.
func suppressedReport(t *testing.T) *audit.Report {
	t.Helper()
	in := loadDir(t, "../examples/insecure")
	first := audit.Run(in, audit.Config{Now: testNow})
	b := &audit.Baseline{Findings: map[string]audit.BaselineEntry{}}
	f := first.Findings[len(first.Findings)-1]
	b.Findings[f.Fingerprint] = audit.BaselineEntry{Fingerprint: f.Fingerprint, ID: f.ID}
	r := audit.Run(in, audit.Config{Now: testNow, Baseline: b})
	if len(r.Suppressed) != 1 || len(r.Findings) != len(first.Findings)-1 {
		t.Fatalf("baseline did not suppress exactly one finding: %d suppressed, %d -> %d active", len(r.Suppressed), len(first.Findings), len(r.Findings))
	}
	return r
}

// TestSARIFValidates validates the SARIF output against the SARIF 2.1.0
// schema (sariftest) and checks what code scanning reads.
func TestSARIFValidates(t *testing.T) {
	r := suppressedReport(t)
	var out bytes.Buffer
	if err := audit.WriteSARIF(&out, r, "test"); err != nil {
		t.Fatal(err)
	}
	if err := sariftest.Validate(t, out.Bytes()); err != nil {
		t.Fatalf("SARIF output does not validate: %v", err)
	}
	// The validator must be able to fail: a wrong version and a bad level
	// do not validate.
	for _, bad := range []string{
		strings.Replace(out.String(), `"version": "2.1.0"`, `"version": "2.0.0"`, 1),
		strings.Replace(out.String(), `"level": "error"`, `"level": "fatal"`, 1),
	} {
		if sariftest.Validate(t, []byte(bad)) == nil {
			t.Error("the schema accepts an invalid SARIF document")
		}
	}

	var log struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string
						Properties map[string]any
					}
				}
			}
			Results []struct {
				RuleID              string
				RuleIndex           int
				Level               string
				PartialFingerprints map[string]string
				Suppressions        []struct{ Kind string }
			}
		}
	}
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != len(audit.Checks()) {
		t.Errorf("%d rules, want one per check (%d)", len(run.Tool.Driver.Rules), len(audit.Checks()))
	}
	if len(run.Results) != len(r.Findings)+len(r.Suppressed) {
		t.Errorf("%d results, want %d", len(run.Results), len(r.Findings)+len(r.Suppressed))
	}
	suppressed := 0
	for _, res := range run.Results {
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s points at rule %d", res.RuleID, res.RuleIndex)
		}
		if len(res.PartialFingerprints["bulkhead/v1"]) != 16 {
			t.Errorf("result %s without fingerprint", res.RuleID)
		}
		suppressed += len(res.Suppressions)
	}
	if suppressed != 1 {
		t.Errorf("%d suppressed results, want 1", suppressed)
	}
	for _, rule := range run.Tool.Driver.Rules {
		if _, ok := rule.Properties["security-severity"].(string); !ok {
			t.Errorf("rule %s has no security-severity", rule.ID)
		}
	}
}

// TestJUnitParses parses the JUnit output back and checks the counts.
func TestJUnitParses(t *testing.T) {
	r := suppressedReport(t)
	var out bytes.Buffer
	if err := audit.WriteJUnit(&out, r); err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Type string `xml:"type,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(out.Bytes(), &suites); err != nil {
		t.Fatalf("JUnit output does not parse: %v", err)
	}
	if len(suites.Suites) != len(audit.Checks()) {
		t.Errorf("%d suites, want one per check", len(suites.Suites))
	}
	if suites.Failures != len(r.Findings) || suites.Skipped != 1 {
		t.Errorf("failures %d skipped %d, want %d and 1", suites.Failures, suites.Skipped, len(r.Findings))
	}
	n := 0
	for _, s := range suites.Suites {
		for _, c := range s.Cases {
			n++
			if !strings.HasPrefix(s.Name, c.Classname+" ") {
				t.Errorf("case %q of suite %q has classname %q", c.Name, s.Name, c.Classname)
			}
		}
	}
	if n != suites.Tests {
		t.Errorf("tests=%d but %d cases", suites.Tests, n)
	}
}

// TestJSONShape checks the JSON report's envelope and counts.
func TestJSONShape(t *testing.T) {
	r := suppressedReport(t)
	var out bytes.Buffer
	if err := audit.WriteJSON(&out, r); err != nil {
		t.Fatal(err)
	}
	var j audit.ReportJSON
	if err := json.Unmarshal(out.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if j.APIVersion != "bulkhead.dev/v1" || j.Kind != "AuditReport" {
		t.Errorf("envelope %s %s", j.APIVersion, j.Kind)
	}
	total := 0
	for _, n := range j.Summary {
		total += n
	}
	if total != len(j.Findings) || len(j.Suppressed) != 1 || len(j.Checks) != len(audit.Checks()) {
		t.Errorf("summary %v for %d findings, %d suppressed, %d checks", j.Summary, len(j.Findings), len(j.Suppressed), len(j.Checks))
	}
}

// TestTextColours checks that colours appear only when asked for.
func TestTextColours(t *testing.T) {
	r := suppressedReport(t)
	var plain, colour bytes.Buffer
	if err := audit.WriteText(&plain, r, render.Style{}); err != nil {
		t.Fatal(err)
	}
	if err := audit.WriteText(&colour, r, render.Style{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("plain text has ANSI escapes")
	}
	if !strings.Contains(colour.String(), "\x1b[1m\x1b[31mCRITICAL") {
		t.Error("critical heading not bold red on a terminal")
	}
	stripped := strings.NewReplacer("\x1b[0m", "", "\x1b[1m", "", "\x1b[2m", "", "\x1b[31m", "", "\x1b[32m", "", "\x1b[33m", "", "\x1b[36m", "").Replace(colour.String())
	if stripped != plain.String() {
		t.Error("coloured text differs from plain text beyond the escapes")
	}
}
