package lint

import (
	"io"
	"net/url"
	"path/filepath"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
	"github.com/bulkhead/bulkhead/sarif"
)

// SARIF 2.1.0 (OASIS), the subset code-scanning tools read: one run, the
// tool's rules with help text, and one result per finding with a
// location, a stable fingerprint, suppressions and the baseline state.
// TestSARIFValidatesAgainstSchema checks the output against the official
// schema.

// SARIFOptions change the SARIF output.
type SARIFOptions struct {
	// URI maps a finding's file to the artifact URI: relative to the
	// repository root for code scanning. The default is the file with
	// forward slashes.
	URI func(file string) string
	// Version is the tool version.
	Version string
	// Baseline is set when the findings were compared with a baseline:
	// results that are not suppressed then carry baselineState "new" or
	// "unchanged".
	Baseline bool
}

// SARIFSchema is the $schema URI written in SARIF documents.
const SARIFSchema = sarif.Schema

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(s model.Severity) string {
	switch s {
	case model.SeverityError:
		return "error"
	case model.SeverityWarning:
		return "warning"
	}
	return "note"
}

// fingerprintKey names bulkhead's partial fingerprint.
const fingerprintKey = "bulkheadFinding/v1"

// WriteSARIF writes findings as a SARIF 2.1.0 log with every check as a
// rule.
func WriteSARIF(w io.Writer, fs []Finding, o SARIFOptions) error {
	uri := o.URI
	if uri == nil {
		uri = filepath.ToSlash
	}
	drv := sarif.Driver{Name: "bulkhead", Version: o.Version, Rules: []sarif.Rule{}}
	index := map[string]int{}
	for i, c := range registry {
		info := c.Info()
		index[info.ID] = i
		drv.Rules = append(drv.Rules, sarif.Rule{
			ID: info.ID, Name: info.Name,
			ShortDescription:     sarif.Message{Text: info.Summary},
			FullDescription:      sarif.Message{Text: info.Doc},
			Help:                 sarif.Message{Text: info.Summary + "\n\nFix: " + info.Fix + "\n\n" + info.Doc, Markdown: "**" + info.Summary + "**\n\n" + info.Doc + "\n\n**Fix:** " + info.Fix},
			DefaultConfiguration: sarif.Configuration{Level: sarifLevel(info.Severity)},
			Properties:           &sarif.RuleProperties{Tags: []string{"kubernetes", "network-policy", "security"}},
		})
	}
	run := sarif.Run{Tool: sarif.Tool{Driver: drv}, Results: []sarif.Result{}, ColumnKind: "unicodeCodePoints"}
	for i := range fs {
		f := &fs[i]
		text := f.Subject + ": " + f.Msg
		if f.Fix != "" {
			text += "\nFix: " + f.Fix
		}
		res := sarif.Result{RuleID: f.ID, RuleIndex: index[f.ID], Level: sarifLevel(f.Severity),
			Message:             sarif.Message{Text: text},
			PartialFingerprints: map[string]string{fingerprintKey: f.Fingerprint()}}
		loc := sarif.Location{LogicalLocations: []sarif.LogicalLocation{{FullyQualifiedName: f.Object.Object(), Kind: "resource"}}}
		if f.File != "" && f.File != "-" {
			phys := &sarif.PhysicalLocation{ArtifactLocation: sarif.ArtifactLocation{URI: (&url.URL{Path: uri(f.File)}).String()}}
			if f.Line > 0 {
				phys.Region = &sarif.Region{StartLine: f.Line}
			}
			loc.PhysicalLocation = phys
		}
		res.Locations = []sarif.Location{loc}
		if f.Suppressed {
			res.Suppressions = []sarif.Suppression{{Kind: "inSource", Justification: f.Reason}}
		}
		if o.Baseline && !f.Suppressed {
			res.BaselineState = "new"
			if f.Baselined {
				res.BaselineState = "unchanged"
			}
		}
		run.Results = append(run.Results, res)
	}
	return render.WriteJSON(w, sarif.NewLog(run))
}
