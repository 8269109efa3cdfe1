package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
)

// SuppressAnnotation is the annotation that suppresses findings. Its value
// holds one entry per line:
//
//	ID[,ID...] [until=YYYY-MM-DD]: reason
//
// for example
//
//	bulkhead.dev/audit-ignore: |
//	  BH-WL-004: the CNI agent needs the host network
//	  BH-IMG-003 until=2027-01-31: digest pinning lands with the new pipeline
//
// On a workload (or its pod template) it suppresses that workload's
// findings; on any other object (Service, Node, PeerAuthentication) that
// object's; on a Namespace every finding in the namespace. The reason is
// mandatory: an entry without one suppresses nothing and is reported. An
// entry with an expiry suppresses up to and including that day (UTC);
// after it the finding is reported again, with a note.
const SuppressAnnotation = "bulkhead.dev/audit-ignore"

// Suppression is one parsed entry of the annotation.
type Suppression struct {
	IDs    []string
	Until  time.Time // zero: no expiry
	Reason string
}

var checkIDRE = regexp.MustCompile(`^BH-[A-Z]+-[0-9]{3}$`)

// ParseSuppressions parses the value of SuppressAnnotation. It returns the
// valid entries and an error for each invalid one.
func ParseSuppressions(value string) ([]Suppression, []error) {
	var out []Suppression
	var errs []error
	for n, line := range strings.Split(value, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		head, reason, ok := strings.Cut(line, ":")
		reason = strings.TrimSpace(reason)
		if !ok || reason == "" {
			errs = append(errs, fmt.Errorf("entry %d %q: want \"ID[,ID] [until=YYYY-MM-DD]: reason\"; the reason is mandatory", n+1, line))
			continue
		}
		var s Suppression
		s.Reason = reason
		fields := strings.Fields(head)
		bad := false
		for i, f := range fields {
			if d, isUntil := strings.CutPrefix(f, "until="); isUntil {
				t, err := time.Parse("2006-01-02", d)
				if err != nil || i != len(fields)-1 {
					errs = append(errs, fmt.Errorf("entry %d %q: until=%s: want a date YYYY-MM-DD after the IDs", n+1, line, d))
					bad = true
					break
				}
				s.Until = t
				continue
			}
			for _, id := range strings.Split(f, ",") {
				if id == "" {
					continue
				}
				if !checkIDRE.MatchString(id) {
					errs = append(errs, fmt.Errorf("entry %d %q: %q is not a check ID (BH-XXX-000)", n+1, line, id))
					bad = true
					break
				}
				if Lookup(id) == nil {
					errs = append(errs, fmt.Errorf("entry %d %q: no check %s (see bulkhead audit --list-checks)", n+1, line, id))
					bad = true
					break
				}
				s.IDs = append(s.IDs, id)
			}
		}
		if bad {
			continue
		}
		if len(s.IDs) == 0 {
			errs = append(errs, fmt.Errorf("entry %d %q: no check ID", n+1, line))
			continue
		}
		out = append(out, s)
	}
	return out, errs
}

// Baseline is a set of accepted findings, by fingerprint. Findings in the
// baseline are suppressed; new ones are reported.
type Baseline struct {
	Findings map[string]BaselineEntry
}

// BaselineEntry is one accepted finding, with enough context to read the
// file.
type BaselineEntry struct {
	Fingerprint string `json:"fingerprint"`
	ID          string `json:"id"`
	Subject     string `json:"subject"`
	Container   string `json:"container,omitempty"`
}

type baselineFile struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Findings   []BaselineEntry `json:"findings"`
}

const baselineKind = "AuditBaseline"

// ReadBaseline reads a baseline file written by WriteBaseline.
func ReadBaseline(r io.Reader) (*Baseline, error) {
	var f baselineFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	if f.APIVersion != "bulkhead.dev/v1" || f.Kind != baselineKind {
		return nil, fmt.Errorf("baseline: want apiVersion bulkhead.dev/v1 and kind %s, got %q and %q", baselineKind, f.APIVersion, f.Kind)
	}
	b := &Baseline{Findings: map[string]BaselineEntry{}}
	for i, e := range f.Findings {
		if len(e.Fingerprint) != 16 {
			return nil, fmt.Errorf("baseline: findings[%d]: fingerprint %q is not 16 hex digits", i, e.Fingerprint)
		}
		b.Findings[e.Fingerprint] = e
	}
	return b, nil
}

// WriteBaseline writes the report's active and suppressed findings as a
// baseline, sorted by fingerprint so that the file diffs well.
func WriteBaseline(w io.Writer, r *Report) error {
	f := baselineFile{APIVersion: "bulkhead.dev/v1", Kind: baselineKind, Findings: []BaselineEntry{}}
	add := func(x Finding) {
		f.Findings = append(f.Findings, BaselineEntry{Fingerprint: x.Fingerprint, ID: x.ID, Subject: x.Subject.String(), Container: x.Container})
	}
	for _, x := range r.Findings {
		add(x)
	}
	for _, x := range r.Suppressed {
		add(x.Finding)
	}
	sort.Slice(f.Findings, func(i, j int) bool { return f.Findings[i].Fingerprint < f.Findings[j].Fingerprint })
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

// suppressor applies annotations and the baseline, and collects notes.
type suppressor struct {
	c        *Context
	cfg      Config
	parsed   map[string]parsedAnnotation // by annotation value
	noteList []string
	noted    map[string]bool
}

type parsedAnnotation struct {
	entries []Suppression
	errs    []error
}

func newSuppressor(c *Context, cfg Config) *suppressor {
	return &suppressor{c: c, cfg: cfg, parsed: map[string]parsedAnnotation{}, noted: map[string]bool{}}
}

func (s *suppressor) note(n string) {
	if !s.noted[n] {
		s.noted[n] = true
		s.noteList = append(s.noteList, n)
	}
}

func (s *suppressor) notes() []string {
	out := append([]string(nil), s.noteList...)
	sort.Strings(out)
	return out
}

func (s *suppressor) parse(value string) parsedAnnotation {
	p, ok := s.parsed[value]
	if !ok {
		p.entries, p.errs = ParseSuppressions(value)
		s.parsed[value] = p
	}
	return p
}

func (s *suppressor) suppress(f Finding) (Suppressed, bool) {
	type source struct {
		where string
		anns  map[string]string
	}
	var sources []source
	for _, a := range s.c.annotations(&f) {
		sources = append(sources, source{f.Subject.String(), a})
	}
	if ns := f.Subject.NamespaceOf(); ns != "" && f.Subject.Kind != "Namespace" {
		sources = append(sources, source{ns + "[Namespace]", s.c.namespaceAnnotations(ns)})
	}
	today := s.cfg.Now.UTC().Truncate(24 * time.Hour)
	for _, src := range sources {
		v, ok := src.anns[SuppressAnnotation]
		if !ok {
			continue
		}
		p := s.parse(v)
		for _, err := range p.errs {
			s.note(fmt.Sprintf("%s: annotation %s: %v", src.where, SuppressAnnotation, err))
		}
		for _, e := range p.entries {
			if !contains(e.IDs, f.ID) {
				continue
			}
			until := ""
			if !e.Until.IsZero() {
				until = e.Until.Format("2006-01-02")
				if today.After(e.Until) {
					s.note(fmt.Sprintf("%s: the suppression of %s expired on %s (reason was: %s); its findings are reported again",
						src.where, f.ID, until, e.Reason))
					continue
				}
			}
			return Suppressed{Finding: f, By: "annotation", Reason: e.Reason, Until: until}, true
		}
	}
	if b := s.cfg.Baseline; b != nil {
		if _, ok := b.Findings[f.Fingerprint]; ok {
			return Suppressed{Finding: f, By: "baseline", Reason: "accepted in the baseline"}, true
		}
	}
	return Suppressed{}, false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
