package audit

import (
	"encoding/xml"
	"fmt"
	"io"
)

// JUnit XML as CI systems read it (Jenkins, GitLab, GitHub test
// reporters): one testsuite per check, one failing testcase per finding
// (classname the check ID, name the subject and container; the failure
// says what is wrong, how to fix it and the fingerprint; the rationale is
// in the SARIF rules and docs/checks.md), and one passing testcase for a
// check without findings. Suppressed findings are skipped testcases with
// the reason.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(w io.Writer, r *Report) error {
	out := junitSuites{Name: "bulkhead audit"}
	byID := map[string][]Finding{}
	for _, f := range r.Findings {
		byID[f.ID] = append(byID[f.ID], f)
	}
	supByID := map[string][]Suppressed{}
	for _, s := range r.Suppressed {
		supByID[s.ID] = append(supByID[s.ID], s)
	}
	for _, c := range r.Checks {
		s := junitSuite{Name: c.ID + " " + c.Title}
		name := func(f Finding) string {
			n := f.Subject.String()
			if f.Container != "" {
				n += " [" + f.Container + "]"
			}
			return n
		}
		for _, f := range byID[c.ID] {
			text := fmt.Sprintf("%s\nFix: %s\nFingerprint: %s\n", f.Msg, c.Remediation, f.Fingerprint)
			if loc := f.Source.Location(); loc != "" {
				text += "Source: " + loc + "\n"
			}
			s.Cases = append(s.Cases, junitCase{Name: name(f), Classname: c.ID, File: f.Source.File, Line: f.Source.Line,
				Failure: &junitFailure{Message: f.Msg, Type: f.Severity.String(), Text: text}})
			s.Failures++
		}
		for _, sp := range supByID[c.ID] {
			msg := "suppressed by " + sp.By + ": " + sp.Reason
			if sp.Until != "" {
				msg += " (until " + sp.Until + ")"
			}
			s.Cases = append(s.Cases, junitCase{Name: name(sp.Finding), Classname: c.ID, File: sp.Source.File, Line: sp.Source.Line,
				Skipped: &junitSkipped{Message: msg}})
			s.Skipped++
		}
		if len(s.Cases) == 0 {
			s.Cases = append(s.Cases, junitCase{Name: "no findings", Classname: c.ID})
		}
		s.Tests = len(s.Cases)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
