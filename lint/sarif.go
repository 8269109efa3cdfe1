package lint

import (
	"io"
	"net/url"
	"path/filepath"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
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
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool     `json:"tool"`
	Results    []sarifResult `json:"results"`
	ColumnKind string        `json:"columnKind"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string           `json:"id"`
	Name                 string           `json:"name"`
	ShortDescription     sarifText        `json:"shortDescription"`
	FullDescription      sarifText        `json:"fullDescription"`
	Help                 sarifText        `json:"help"`
	DefaultConfiguration sarifConfig      `json:"defaultConfiguration"`
	Properties           *sarifProperties `json:"properties,omitempty"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifProperties struct {
	Tags []string `json:"tags,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	BaselineState       string             `json:"baselineState,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	Message          *sarifText     `json:"message,omitempty"`
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
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

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
	drv := sarifDriver{Name: "bulkhead", Version: o.Version, Rules: []sarifRule{}}
	index := map[string]int{}
	for i, c := range registry {
		info := c.Info()
		index[info.ID] = i
		drv.Rules = append(drv.Rules, sarifRule{
			ID: info.ID, Name: info.Name,
			ShortDescription:     sarifText{Text: info.Summary},
			FullDescription:      sarifText{Text: info.Doc},
			Help:                 sarifText{Text: info.Summary + "\n\nFix: " + info.Fix + "\n\n" + info.Doc, Markdown: "**" + info.Summary + "**\n\n" + info.Doc + "\n\n**Fix:** " + info.Fix},
			DefaultConfiguration: sarifConfig{Level: sarifLevel(info.Severity)},
			Properties:           &sarifProperties{Tags: []string{"kubernetes", "network-policy", "security"}},
		})
	}
	run := sarifRun{Tool: sarifTool{Driver: drv}, Results: []sarifResult{}, ColumnKind: "unicodeCodePoints"}
	for i := range fs {
		f := &fs[i]
		text := f.Subject + ": " + f.Msg
		if f.Fix != "" {
			text += "\nFix: " + f.Fix
		}
		res := sarifResult{RuleID: f.ID, RuleIndex: index[f.ID], Level: sarifLevel(f.Severity),
			Message:             sarifText{Text: text},
			PartialFingerprints: map[string]string{fingerprintKey: f.Fingerprint()}}
		loc := sarifLocation{LogicalLocations: []sarifLogical{{FullyQualifiedName: f.Object.Object(), Kind: "resource"}}}
		if f.File != "" && f.File != "-" {
			phys := &sarifPhysical{ArtifactLocation: sarifArtifact{URI: (&url.URL{Path: uri(f.File)}).String()}}
			if f.Line > 0 {
				phys.Region = &sarifRegion{StartLine: f.Line}
			}
			loc.PhysicalLocation = phys
		}
		res.Locations = []sarifLocation{loc}
		if f.Suppressed {
			res.Suppressions = []sarifSuppression{{Kind: "inSource", Justification: f.Reason}}
		}
		if o.Baseline && !f.Suppressed {
			res.BaselineState = "new"
			if f.Baselined {
				res.BaselineState = "unchanged"
			}
		}
		run.Results = append(run.Results, res)
	}
	return render.WriteJSON(w, sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}
