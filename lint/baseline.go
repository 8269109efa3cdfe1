package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/bulkhead/bulkhead/render"
)

// Baseline is a set of accepted findings, saved by
// `bulkhead lint --baseline-write` and read by `--baseline` so that CI
// fails only on new findings. Findings are matched by Fingerprint, which
// does not depend on files or lines; the other fields are for people
// reading the file.
type Baseline struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Findings   []BaselineEntry `json:"findings"`
}

// BaselineEntry is one accepted finding.
type BaselineEntry struct {
	Fingerprint string `json:"fingerprint"`
	ID          string `json:"id"`
	Object      string `json:"object"`
	Path        string `json:"path,omitempty"`
	Message     string `json:"message"`
}

// BaselineKind is the kind of a baseline file.
const BaselineKind = "LintBaseline"

// NewBaseline records the findings that are not suppressed (suppressed
// ones need no baseline), sorted by fingerprint so that the file diffs
// well.
func NewBaseline(fs []Finding) *Baseline {
	b := &Baseline{APIVersion: render.APIVersion, Kind: BaselineKind, Findings: []BaselineEntry{}}
	seen := map[string]bool{}
	for i := range fs {
		f := &fs[i]
		fp := f.Fingerprint()
		if f.Suppressed || seen[fp] {
			continue
		}
		seen[fp] = true
		b.Findings = append(b.Findings, BaselineEntry{Fingerprint: fp, ID: f.ID, Object: f.Object.Object(), Path: f.Path, Message: f.Msg})
	}
	slices.SortFunc(b.Findings, func(x, y BaselineEntry) int { return strings.Compare(x.Fingerprint, y.Fingerprint) })
	return b
}

// Write writes b as indented JSON.
func (b *Baseline) Write(w io.Writer) error { return render.WriteJSON(w, b) }

// ReadBaseline reads a baseline file.
func ReadBaseline(r io.Reader) (*Baseline, error) {
	var b Baseline
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	if b.Kind != BaselineKind {
		return nil, fmt.Errorf("baseline: kind %q, want %q (write one with bulkhead lint --baseline-write)", b.Kind, BaselineKind)
	}
	for i, e := range b.Findings {
		if e.Fingerprint == "" {
			return nil, fmt.Errorf("baseline: findings[%d]: no fingerprint", i)
		}
	}
	return &b, nil
}

// Apply marks the findings the baseline holds as Baselined and returns
// the baseline entries no finding matched any more (fixed since).
func (b *Baseline) Apply(fs []Finding) (gone []BaselineEntry) {
	held := map[string]bool{}
	for _, e := range b.Findings {
		held[e.Fingerprint] = true
	}
	matched := map[string]bool{}
	for i := range fs {
		fp := fs[i].Fingerprint()
		if held[fp] {
			fs[i].Baselined = true
			matched[fp] = true
		}
	}
	for _, e := range b.Findings {
		if !matched[e.Fingerprint] {
			gone = append(gone, e)
		}
	}
	return gone
}
