package lint

import (
	"io"

	"github.com/bulkhead/bulkhead/render"
)

// ReportJSON is `bulkhead lint -o json`: every finding, suppressed and
// baselined ones included (and marked), with a summary of the active
// ones.
type ReportJSON struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Summary    SummaryJSON   `json:"summary"`
	Findings   []FindingJSON `json:"findings"`
	// Skipped lists checks that could not run on this input, and why.
	Skipped []string `json:"skipped,omitempty"`
}

// SummaryJSON counts findings; errors, warnings and infos count only the
// active ones (neither suppressed nor baselined).
type SummaryJSON struct {
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
	Infos      int `json:"infos"`
	Suppressed int `json:"suppressed"`
	Baselined  int `json:"baselined"`
}

// FindingJSON is one finding in JSON.
type FindingJSON struct {
	ID          string     `json:"id"`
	Check       string     `json:"check"`
	Severity    string     `json:"severity"`
	Subject     string     `json:"subject"`
	Object      ObjectJSON `json:"object"`
	File        string     `json:"file,omitempty"`
	Line        int        `json:"line,omitempty"`
	Path        string     `json:"path,omitempty"`
	Message     string     `json:"message"`
	Fix         string     `json:"fix,omitempty"`
	Fingerprint string     `json:"fingerprint"`
	Suppressed  bool       `json:"suppressed,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	Baselined   bool       `json:"baselined,omitempty"`
}

// ObjectJSON names a Kubernetes object.
type ObjectJSON struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// ToJSON converts findings and the skipped checks.
func ToJSON(fs []Finding, skipped []string) ReportJSON {
	n := Count(fs)
	doc := ReportJSON{APIVersion: render.APIVersion, Kind: "LintReport",
		Summary:  SummaryJSON{Errors: n.Errors, Warnings: n.Warnings, Infos: n.Infos, Suppressed: n.Suppressed, Baselined: n.Baselined},
		Findings: []FindingJSON{}, Skipped: skipped}
	for i := range fs {
		f := &fs[i]
		j := FindingJSON{ID: f.ID, Severity: f.Severity.String(), Subject: f.Subject,
			Object: ObjectJSON{Kind: f.Object.Kind, Namespace: f.Object.Namespace, Name: f.Object.Name},
			File:   f.File, Line: f.Line, Path: f.Path, Message: f.Msg, Fix: f.Fix, Fingerprint: f.Fingerprint(),
			Suppressed: f.Suppressed, Reason: f.Reason, Baselined: f.Baselined}
		if c := Lookup(f.ID); c != nil {
			j.Check = c.Info().Name
		}
		doc.Findings = append(doc.Findings, j)
	}
	return doc
}

// WriteJSON writes findings as a LintReport document.
func WriteJSON(w io.Writer, fs []Finding, skipped []string) error {
	return render.WriteJSON(w, ToJSON(fs, skipped))
}
