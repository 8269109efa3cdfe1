package audit

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/bulkhead/bulkhead/sarif"
)

// sarifLevel maps severities to SARIF levels: critical and high are
// errors, medium warnings, low and info notes.
func sarifLevel(s Severity) string {
	switch s {
	case Critical, High:
		return "error"
	case Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the CVSS-like score GitHub code scanning reads from
// the rule's "security-severity" property.
func securitySeverity(s Severity) string {
	switch s {
	case Critical:
		return "9.5"
	case High:
		return "8.0"
	case Medium:
		return "5.5"
	case Low:
		return "3.0"
	}
	return "0.0"
}

// fileURI turns a manifest path into a relative (or file:) URI reference.
func fileURI(p string) string {
	p = filepath.ToSlash(p)
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := strings.Join(segs, "/")
	if strings.HasPrefix(p, "/") {
		return "file://" + u
	}
	return u
}

// WriteSARIF writes the report as a SARIF 2.1.0 log with one rule per
// check that ran. Suppressed findings are results with a suppression, as
// code-scanning tools expect, so that dismissals are visible.
func WriteSARIF(w io.Writer, r *Report, version string) error {
	drv := sarif.Driver{Name: "bulkhead", Version: version, InformationURI: "https://github.com/bulkhead/bulkhead", Rules: []sarif.Rule{}}
	index := map[string]int{}
	for i, c := range r.Checks {
		index[c.ID] = i
		help := c.Remediation
		md := "**Why:** " + c.Rationale + "\n\n**Fix:** " + c.Remediation
		if eq := c.Equivalents.list(); eq != "" {
			help += " Equivalent checks: " + eq + "."
			md += "\n\n**Equivalent checks:** " + eq
		}
		rule := sarif.Rule{ID: c.ID, Name: ruleName(c.Title), ShortDescription: sarif.Message{Text: c.Title},
			FullDescription: sarif.Message{Text: c.Rationale}, Help: sarif.Message{Text: help, Markdown: md},
			DefaultConfiguration: sarif.Configuration{Level: sarifLevel(c.Severity)},
			Properties: &sarif.RuleProperties{Tags: []string{"security", "kubernetes", string(c.Category)},
				SecuritySeverity: securitySeverity(c.Severity), Precision: "high"}}
		if len(c.References) > 0 {
			rule.HelpURI = c.References[0]
		}
		drv.Rules = append(drv.Rules, rule)
	}
	run := sarif.Run{Tool: sarif.Tool{Driver: drv}, Results: []sarif.Result{}}
	add := func(f Finding, sup *Suppressed) {
		res := sarif.Result{RuleID: f.ID, RuleIndex: index[f.ID], Level: sarifLevel(f.Severity), Message: sarif.Message{Text: f.Subject.String() + ": " + f.Msg},
			PartialFingerprints: map[string]string{"bulkhead/v1": f.Fingerprint}}
		loc := sarif.Location{LogicalLocations: []sarif.LogicalLocation{{Name: f.Subject.Name, FullyQualifiedName: f.Subject.String(), Kind: "resource"}}}
		if f.Source.File != "" && f.Source.File != "-" {
			loc.PhysicalLocation = &sarif.PhysicalLocation{ArtifactLocation: sarif.ArtifactLocation{URI: fileURI(f.Source.File)}}
			if f.Source.Line > 0 {
				loc.PhysicalLocation.Region = &sarif.Region{StartLine: f.Source.Line}
			}
		}
		res.Locations = []sarif.Location{loc}
		if f.Field != "" || f.Container != "" {
			res.Properties = map[string]string{}
			if f.Field != "" {
				res.Properties["field"] = f.Field
			}
			if f.Container != "" {
				res.Properties["container"] = f.Container
			}
		}
		if sup != nil {
			kind := "inSource"
			if sup.By == "baseline" {
				kind = "external"
			}
			just := sup.Reason
			if sup.Until != "" {
				just += " (until " + sup.Until + ")"
			}
			res.Suppressions = []sarif.Suppression{{Kind: kind, Status: "accepted", Justification: just}}
		}
		run.Results = append(run.Results, res)
	}
	for _, f := range r.Findings {
		add(f, nil)
	}
	for i := range r.Suppressed {
		add(r.Suppressed[i].Finding, &r.Suppressed[i])
	}
	// Unlike render.WriteJSON, this encoder escapes <, > and & (as
	// \u003c...): the audit's SARIF has always been written so.
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarif.NewLog(run))
}

// ruleName makes a title a PascalCase rule name: "PrivilegedContainer".
func ruleName(title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

// list formats the equivalents: "kubescape C-0057, Trivy KSV017, ...".
func (e Equivalents) list() string {
	var parts []string
	for _, p := range []struct{ tool, id string }{{"kubescape", e.Kubescape}, {"Trivy", e.Trivy}, {"Polaris", e.Polaris},
		{"kube-score", e.KubeScore}, {"CIS", e.CIS}} {
		if p.id != "" {
			parts = append(parts, p.tool+" "+p.id)
		}
	}
	return strings.Join(parts, ", ")
}
