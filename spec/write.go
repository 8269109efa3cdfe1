package spec

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/bulkhead/bulkhead/render"
	"github.com/bulkhead/bulkhead/render/table"
	"go.yaml.in/yaml/v3"
)

// Output formats of Write.
const (
	Text  render.Format = "txt"
	JSON  render.Format = "json"
	JUnit render.Format = "junit"
	TAP   render.Format = "tap"
)

// Formats are the output formats Write supports.
var Formats = []render.Format{Text, JSON, JUnit, TAP}

// Write writes the results in format f.
func Write(w io.Writer, f render.Format, r *Results, st table.Style) error {
	switch f {
	case Text:
		return writeText(w, r, st)
	case JSON:
		return render.WriteJSON(w, toJSON(r))
	case JUnit:
		return writeJUnit(w, r)
	case TAP:
		return writeTAP(w, r)
	}
	return fmt.Errorf("test: unsupported output format %q", f)
}

// location is "spec.yaml:12".
func (r *Results) location(t *Test) string {
	if t.Line > 0 {
		return fmt.Sprintf("%s:%d", r.Spec.File, t.Line)
	}
	return r.Spec.File
}

func pairString(p Pair) string {
	s := p.Src.ID() + " -> " + p.Dst.ID() + ": " + p.Allowed.String()
	if !p.Unknown.IsEmpty() {
		s += " (unknown: " + p.Unknown.String() + ")"
	}
	return s
}

// detailLines are the lines that explain a result: the offending pairs
// and one decision trace.
func detailLines(x *Result) []string {
	var out []string
	if x.Offending > 0 {
		out = append(out, "offending pairs (connections allowed):")
		for _, p := range x.Examples {
			out = append(out, "  "+pairString(p))
		}
		if more := x.Offending - len(x.Examples); more > 0 {
			out = append(out, fmt.Sprintf("  ... and %d more", more))
		}
	}
	if d := x.Explanation; d != nil {
		out = append(out, fmt.Sprintf("why %s -> %s on %s:", d.Src.ID(), d.Dst.ID(), d.Scope))
		if d.Self {
			out = append(out, "  an endpoint can always reach itself")
		} else {
			out = append(out, "  egress:  "+render.Flow(d.Egress), "  ingress: "+render.Flow(d.Ingress))
		}
	}
	return out
}

func summary(r *Results) string {
	n, f := len(r.Results), r.Failed()
	return fmt.Sprintf("%s: %d tests, %d passed and %d failed", r.Spec.Name, n, n-f, f)
}

func writeText(w io.Writer, r *Results, st table.Style) error {
	bw := bufio.NewWriter(w)
	for _, x := range r.Results {
		mark := st.Good("PASS")
		if !x.Passed {
			mark = st.Bad("FAIL")
		}
		fmt.Fprintf(bw, "%s  %s\n", mark, x.Test.Name)
		fmt.Fprintf(bw, "      %s\n", x.Message)
		for _, l := range detailLines(x) {
			fmt.Fprintf(bw, "      %s\n", st.Dim(l))
		}
	}
	fmt.Fprintf(bw, "\n%s\n", summary(r))
	return bw.Flush()
}

// JSON document (kind "ConnectivityTestResults"; see docs/review.md).
type (
	resultsJSON struct {
		APIVersion string       `json:"apiVersion"`
		Kind       string       `json:"kind"`
		Name       string       `json:"name"`
		File       string       `json:"file"`
		Tests      int          `json:"tests"`
		Passed     int          `json:"passed"`
		Failed     int          `json:"failed"`
		Results    []resultJSON `json:"results"`
	}
	resultJSON struct {
		Name        string               `json:"name"`
		Source      string               `json:"source"`
		Type        string               `json:"type"` // expectation or zoneRule
		Expect      string               `json:"expect,omitempty"`
		Rule        string               `json:"rule,omitempty"`
		Zone        string               `json:"zone,omitempty"`
		Zones       []string             `json:"zones,omitempty"`
		From        []string             `json:"from,omitempty"`
		To          []string             `json:"to,omitempty"`
		Ports       render.ConnSetJSON   `json:"ports"`
		Passed      bool                 `json:"passed"`
		Message     string               `json:"message"`
		Pairs       int                  `json:"pairs"`
		Offending   int                  `json:"offending"`
		Examples    []pairJSON           `json:"examples"`
		Unmatched   []string             `json:"unmatched,omitempty"`
		Explanation *render.DecisionJSON `json:"explanation,omitempty"`
	}
	pairJSON struct {
		Src     string              `json:"src"`
		Dst     string              `json:"dst"`
		Allowed render.ConnSetJSON  `json:"allowed"`
		Unknown *render.ConnSetJSON `json:"unknown,omitempty"`
	}
)

func selectorStrings(ss []*Selector) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.String()
	}
	return out
}

func toJSON(r *Results) resultsJSON {
	doc := resultsJSON{APIVersion: render.APIVersion, Kind: "ConnectivityTestResults", Name: r.Spec.Name, File: r.Spec.File,
		Tests: len(r.Results), Failed: r.Failed(), Results: []resultJSON{}}
	doc.Passed = doc.Tests - doc.Failed
	for _, x := range r.Results {
		t := x.Test
		j := resultJSON{Name: t.Name, Source: r.location(t), Type: "expectation", Ports: render.ConnSetToJSON(t.Ports),
			Passed: x.Passed, Message: x.Message, Pairs: x.Pairs, Offending: x.Offending, Examples: []pairJSON{}}
		if t.IsZoneRule() {
			j.Type, j.Rule, j.Zone, j.Zones = "zoneRule", t.Rule.String(), t.Zone, t.Zones
		} else {
			j.Expect, j.From, j.To = t.Expect.String(), selectorStrings(t.From), selectorStrings(t.To)
		}
		for _, p := range x.Examples {
			pj := pairJSON{Src: p.Src.ID(), Dst: p.Dst.ID(), Allowed: render.ConnSetToJSON(p.Allowed)}
			if !p.Unknown.IsEmpty() {
				u := render.ConnSetToJSON(p.Unknown)
				pj.Unknown = &u
			}
			j.Examples = append(j.Examples, pj)
		}
		for _, s := range x.Unmatched {
			j.Unmatched = append(j.Unmatched, s.String()+" ("+s.Field+")")
		}
		if x.Explanation != nil {
			d := render.DecisionToJSON(x.Explanation)
			j.Explanation = &d
		}
		doc.Results = append(doc.Results, j)
	}
	return doc
}

// JUnit XML, in the shape Jenkins, GitLab, GitHub test reporters and
// go-junit read: <testsuites> with one <testsuite> per spec and one
// <testcase> per test; a failed test has a <failure>.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Properties []junitProperty `xml:"properties>property,omitempty"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		File      string        `xml:"file,attr,omitempty"`
		Line      int           `xml:"line,attr,omitempty"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Body    string `xml:",chardata"`
	}
)

func writeJUnit(w io.Writer, r *Results) error {
	failed := r.Failed()
	suite := junitSuite{Name: r.Spec.Name, Tests: len(r.Results), Failures: failed,
		Properties: []junitProperty{{"file", r.Spec.File}, {"apiVersion", APIVersion}}}
	for _, x := range r.Results {
		c := junitCase{Name: x.Test.Name, Classname: "bulkhead." + r.Spec.Name, File: r.Spec.File, Line: x.Test.Line}
		body := strings.Join(append([]string{x.Message}, detailLines(x)...), "\n")
		if x.Passed {
			c.SystemOut = body
		} else {
			c.Failure = &junitFailure{Message: x.Message, Type: "ConnectivityExpectation", Body: body}
		}
		suite.Cases = append(suite.Cases, c)
	}
	doc := junitSuites{Name: "bulkhead test", Tests: len(r.Results), Failures: failed, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// tapDiag is the YAML diagnostic block of a TAP test line.
type tapDiag struct {
	Message   string   `yaml:"message"`
	Severity  string   `yaml:"severity,omitempty"`
	At        string   `yaml:"at"`
	Pairs     int      `yaml:"pairs"`
	Offending int      `yaml:"offending,omitempty"`
	Examples  []string `yaml:"examples,omitempty"`
	Unmatched []string `yaml:"unmatched,omitempty"`
	Why       []string `yaml:"why,omitempty"`
}

// writeTAP writes TAP version 13: a plan, one test line per test, and a
// YAML diagnostic block under each (failed tests name their offending
// pairs and the trace of one).
func writeTAP(w io.Writer, r *Results) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "TAP version 13\n1..%d\n", len(r.Results))
	for i, x := range r.Results {
		status := "ok"
		if !x.Passed {
			status = "not ok"
		}
		fmt.Fprintf(bw, "%s %d - %s\n", status, i+1, tapEscape(x.Test.Name))
		d := tapDiag{Message: x.Message, At: r.location(x.Test), Pairs: x.Pairs, Offending: x.Offending}
		if !x.Passed {
			d.Severity = "fail"
		}
		for _, p := range x.Examples {
			d.Examples = append(d.Examples, pairString(p))
		}
		for _, s := range x.Unmatched {
			d.Unmatched = append(d.Unmatched, s.String()+" ("+s.Field+")")
		}
		if e := x.Explanation; e != nil && !e.Self {
			d.Why = []string{
				fmt.Sprintf("%s -> %s on %s", e.Src.ID(), e.Dst.ID(), e.Scope),
				"egress: " + render.Flow(e.Egress),
				"ingress: " + render.Flow(e.Ingress),
			}
		}
		var buf strings.Builder
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return err
		}
		b := buf.String()
		bw.WriteString("  ---\n")
		for _, l := range strings.Split(strings.TrimRight(b, "\n"), "\n") {
			bw.WriteString("  " + l + "\n")
		}
		bw.WriteString("  ...\n")
	}
	return bw.Flush()
}

// tapEscape keeps a description on one line and away from the directive
// marker, which TAP reads as "# SKIP" or "# TODO".
func tapEscape(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "#", `\#`)
}
