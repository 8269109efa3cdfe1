package audit

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"
)

// SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html),
// the subset bulkhead writes. Field names follow the specification.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	FullDescription      sarifText       `json:"fullDescription"`
	Help                 sarifText       `json:"help"`
	HelpURI              string          `json:"helpUri,omitempty"`
	DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
	Properties           sarifRuleProps  `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]string  `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

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
	drv := sarifDriver{Name: "bulkhead", Version: version, InformationURI: "https://github.com/bulkhead/bulkhead", Rules: []sarifRule{}}
	index := map[string]int{}
	for i, c := range r.Checks {
		index[c.ID] = i
		help := c.Remediation
		md := "**Why:** " + c.Rationale + "\n\n**Fix:** " + c.Remediation
		if eq := c.Equivalents.list(); eq != "" {
			help += " Equivalent checks: " + eq + "."
			md += "\n\n**Equivalent checks:** " + eq
		}
		rule := sarifRule{ID: c.ID, Name: ruleName(c.Title), ShortDescription: sarifText{Text: c.Title},
			FullDescription: sarifText{Text: c.Rationale}, Help: sarifText{Text: help, Markdown: md},
			DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(c.Severity)},
			Properties: sarifRuleProps{Tags: []string{"security", "kubernetes", string(c.Category)},
				SecuritySeverity: securitySeverity(c.Severity), Precision: "high"}}
		if len(c.References) > 0 {
			rule.HelpURI = c.References[0]
		}
		drv.Rules = append(drv.Rules, rule)
	}
	run := sarifRun{Tool: sarifTool{Driver: drv}, Results: []sarifResult{}}
	add := func(f Finding, sup *Suppressed) {
		res := sarifResult{RuleID: f.ID, RuleIndex: index[f.ID], Level: sarifLevel(f.Severity), Message: sarifText{Text: f.Subject.String() + ": " + f.Msg},
			PartialFingerprints: map[string]string{"bulkhead/v1": f.Fingerprint}}
		loc := sarifLocation{LogicalLocations: []sarifLogical{{Name: f.Subject.Name, FullyQualifiedName: f.Subject.String(), Kind: "resource"}}}
		if f.Source.File != "" && f.Source.File != "-" {
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: fileURI(f.Source.File)}}
			if f.Source.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Source.Line}
			}
		}
		res.Locations = []sarifLocation{loc}
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
			res.Suppressions = []sarifSuppression{{Kind: kind, Status: "accepted", Justification: just}}
		}
		run.Results = append(run.Results, res)
	}
	for _, f := range r.Findings {
		add(f, nil)
	}
	for i := range r.Suppressed {
		add(r.Suppressed[i].Finding, &r.Suppressed[i])
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
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
