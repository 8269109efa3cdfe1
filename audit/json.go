package audit

import (
	"encoding/json"
	"io"

	"github.com/bulkhead/bulkhead/render"
)

// ReportJSON is the JSON form of a report (kind AuditReport, documented in
// docs/checks.md).
type ReportJSON struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Summary    map[string]int     `json:"summary"`
	Findings   []FindingJSON      `json:"findings"`
	Suppressed []FindingJSON      `json:"suppressed,omitempty"`
	Scores     []ScoreJSON        `json:"scores"`
	CNIs       []CNIJSON          `json:"networkPlugins,omitempty"`
	Notes      []string           `json:"notes,omitempty"`
	Checks     []CheckSummaryJSON `json:"checks"`
}

// FindingJSON is one finding.
type FindingJSON struct {
	ID          string      `json:"id"`
	Severity    string      `json:"severity"`
	Title       string      `json:"title"`
	Subject     SubjectJSON `json:"subject"`
	Container   string      `json:"container,omitempty"`
	Message     string      `json:"message"`
	Source      string      `json:"source,omitempty"`
	Field       string      `json:"field,omitempty"`
	Fingerprint string      `json:"fingerprint"`
	// Suppressed findings only.
	SuppressedBy string `json:"suppressedBy,omitempty"`
	Reason       string `json:"reason,omitempty"`
	Until        string `json:"until,omitempty"`
}

// SubjectJSON is a finding's subject.
type SubjectJSON struct {
	ID        string `json:"id"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// ScoreJSON is one namespace's score; namespace "" is the cluster.
type ScoreJSON struct {
	Namespace string         `json:"namespace"`
	Score     int            `json:"score"`
	Failing   map[string]int `json:"failingChecks"`
	Findings  int            `json:"findings"`
}

// CNIJSON is a recognised network plugin.
type CNIJSON struct {
	Name      string            `json:"name"`
	Version   string            `json:"version,omitempty"`
	DaemonSet string            `json:"daemonSet"`
	Support   map[string]string `json:"enforces"`
	Why       []string          `json:"why,omitempty"`
}

// CheckSummaryJSON names a check that ran.
type CheckSummaryJSON struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Category string `json:"category"`
	Title    string `json:"title"`
}

func findingJSON(f Finding) FindingJSON {
	title := ""
	if c := Lookup(f.ID); c != nil {
		title = c.Title
	}
	return FindingJSON{ID: f.ID, Severity: f.Severity.String(), Title: title,
		Subject:   SubjectJSON{ID: f.Subject.String(), Kind: f.Subject.Kind, Namespace: f.Subject.Namespace, Name: f.Subject.Name},
		Container: f.Container, Message: f.Msg, Source: f.Source.Location(), Field: f.Field, Fingerprint: f.Fingerprint}
}

// ToJSON converts a report.
func ToJSON(r *Report) ReportJSON {
	j := ReportJSON{APIVersion: render.APIVersion, Kind: "AuditReport", Summary: map[string]int{},
		Findings: []FindingJSON{}, Scores: []ScoreJSON{}, Notes: r.Notes}
	for sev, n := range r.Counts() {
		j.Summary[sev.String()] = n
	}
	for _, sev := range Severities {
		j.Summary[sev.String()] += 0
	}
	for _, f := range r.Findings {
		j.Findings = append(j.Findings, findingJSON(f))
	}
	for _, s := range r.Suppressed {
		fj := findingJSON(s.Finding)
		fj.SuppressedBy, fj.Reason, fj.Until = s.By, s.Reason, s.Until
		j.Suppressed = append(j.Suppressed, fj)
	}
	for _, s := range r.Scores {
		f := map[string]int{}
		for _, sev := range Severities {
			f[sev.String()] = s.Failing[sev]
		}
		j.Scores = append(j.Scores, ScoreJSON{Namespace: s.Namespace, Score: s.Score, Failing: f, Findings: s.Findings})
	}
	for _, n := range r.CNIs {
		sup := map[string]string{}
		for api, s := range n.Support {
			sup[api] = s.String()
		}
		j.CNIs = append(j.CNIs, CNIJSON{Name: n.Name, Version: n.Version, DaemonSet: n.Subject.Namespace + "/" + n.Subject.Name, Support: sup, Why: n.Why})
	}
	for _, c := range r.Checks {
		j.Checks = append(j.Checks, CheckSummaryJSON{ID: c.ID, Severity: c.Severity.String(), Category: string(c.Category), Title: c.Title})
	}
	return j
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ToJSON(r))
}
