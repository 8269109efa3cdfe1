package sarif_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/sarif"
	"github.com/bulkhead/bulkhead/sarif/sariftest"
)

// full sets every field of every type, so that validating it checks each
// JSON name against the schema (which forbids unknown properties).
func full() sarif.Log {
	return sarif.NewLog(sarif.Run{
		Tool: sarif.Tool{Driver: sarif.Driver{Name: "bulkhead", Version: "test", InformationURI: "https://github.com/bulkhead/bulkhead",
			Rules: []sarif.Rule{{ID: "BH-X-001", Name: "Example", ShortDescription: sarif.Message{Text: "short"},
				FullDescription: sarif.Message{Text: "full"}, Help: sarif.Message{Text: "help", Markdown: "**help**"},
				HelpURI: "https://example.com/help", DefaultConfiguration: sarif.Configuration{Level: "warning"},
				Properties: &sarif.RuleProperties{Tags: []string{"security"}, SecuritySeverity: "5.5", Precision: "high"}}}}},
		Results: []sarif.Result{{RuleID: "BH-X-001", RuleIndex: 0, Level: "warning", Message: sarif.Message{Text: "msg"},
			Locations: []sarif.Location{{
				PhysicalLocation: &sarif.PhysicalLocation{ArtifactLocation: sarif.ArtifactLocation{URI: "deploy/a%20b.yaml"}, Region: &sarif.Region{StartLine: 3}},
				LogicalLocations: []sarif.LogicalLocation{{Name: "web", FullyQualifiedName: "shop/web[Deployment]", Kind: "resource"}},
			}},
			PartialFingerprints: map[string]string{"bulkhead/v1": "0123456789abcdef"},
			Suppressions:        []sarif.Suppression{{Kind: "external", Status: "accepted", Justification: "why"}},
			BaselineState:       "unchanged",
			Properties:          map[string]string{"field": "spec"},
		}},
		ColumnKind: "unicodeCodePoints",
	})
}

func TestLogValidates(t *testing.T) {
	tests := []struct {
		name  string
		log   sarif.Log
		valid bool
	}{
		{"every field", full(), true},
		{"only required fields", sarif.NewLog(sarif.Run{Tool: sarif.Tool{Driver: sarif.Driver{Name: "bulkhead", Rules: []sarif.Rule{}}}, Results: []sarif.Result{}}), true},
		{"no runs", sarif.NewLog(), true},
		{"bad level", func() sarif.Log { l := full(); l.Runs[0].Results[0].Level = "fatal"; return l }(), false},
		{"line 0", func() sarif.Log {
			l := full()
			l.Runs[0].Results[0].Locations[0].PhysicalLocation.Region.StartLine = 0
			return l
		}(), false},
		{"bad suppression kind", func() sarif.Log { l := full(); l.Runs[0].Results[0].Suppressions[0].Kind = "baseline"; return l }(), false},
		{"bad baseline state", func() sarif.Log { l := full(); l.Runs[0].Results[0].BaselineState = "old"; return l }(), false},
		{"wrong version", func() sarif.Log { l := full(); l.Version = "2.0.0"; return l }(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.log)
			if err != nil {
				t.Fatal(err)
			}
			err = sariftest.Validate(t, data)
			if tt.valid && err != nil {
				t.Errorf("does not validate: %v", err)
			}
			if !tt.valid && err == nil {
				t.Errorf("validates, want a schema violation:\n%s", data)
			}
		})
	}
}

// TestOmitted checks that optional fields a writer leaves empty are not
// written: audit and lint each rely on it to keep their documents as they
// were.
func TestOmitted(t *testing.T) {
	data, err := json.Marshal(sarif.NewLog(sarif.Run{Tool: sarif.Tool{Driver: sarif.Driver{Name: "bulkhead", Rules: []sarif.Rule{}}},
		Results: []sarif.Result{{RuleID: "R", Level: "note", Message: sarif.Message{Text: "m"},
			Locations:           []sarif.Location{{LogicalLocations: []sarif.LogicalLocation{{FullyQualifiedName: "x", Kind: "resource"}}}},
			PartialFingerprints: map[string]string{"k": "v"},
			Suppressions:        []sarif.Suppression{{Kind: "inSource"}}}}}))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{"tool":{"driver":{"name":"bulkhead","rules":[]}},` +
		`"results":[{"ruleId":"R","ruleIndex":0,"level":"note","message":{"text":"m"},"locations":[{"logicalLocations":[{"fullyQualifiedName":"x","kind":"resource"}]}],` +
		`"partialFingerprints":{"k":"v"},"suppressions":[{"kind":"inSource"}]}]}]}`
	if diff := cmp.Diff(want, string(data)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func ExampleNewLog() {
	l := sarif.NewLog(sarif.Run{Tool: sarif.Tool{Driver: sarif.Driver{Name: "bulkhead", Rules: []sarif.Rule{}}}, Results: []sarif.Result{}})
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(l)
	// Output:
	// {
	//   "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
	//   "version": "2.1.0",
	//   "runs": [
	//     {
	//       "tool": {
	//         "driver": {
	//           "name": "bulkhead",
	//           "rules": []
	//         }
	//       },
	//       "results": []
	//     }
	//   ]
	// }
}
