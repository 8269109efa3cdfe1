package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"time"
)

// Report is the result of an audit.
type Report struct {
	// Checks are the checks that ran, in ID order.
	Checks []*Check
	// Findings are the active findings, most severe first (see
	// sortFindings).
	Findings []Finding
	// Suppressed are the findings an annotation or the baseline
	// suppressed.
	Suppressed []Suppressed
	// Notes are things the reader should know: expired or malformed
	// suppressions, checks that had nothing to look at.
	Notes []string
	// Scores are the per-namespace scores (see Score), by namespace; the
	// entry with an empty namespace scores the cluster-scoped findings.
	Scores []NamespaceScore
	// CNIs are the network plugins recognised in the input.
	CNIs []CNI
}

// Suppressed is a finding that was suppressed, and why.
type Suppressed struct {
	Finding
	// By is "annotation" or "baseline".
	By     string
	Reason string
	// Until is the expiry date ("2027-01-31"), if any.
	Until string
}

// NamespaceScore is one namespace's score.
type NamespaceScore struct {
	Namespace string
	// Score is 100 minus the weights (Severity.Weight) of the distinct
	// checks with active findings in the namespace, floored at 0: a
	// namespace loses points for each kind of weakness, not for each
	// replica that has it.
	Score int
	// Failing counts the distinct failing checks by severity.
	Failing map[Severity]int
	// Findings counts the active findings.
	Findings int
}

// Fingerprint returns the stable identity of a finding: the first 16 hex
// digits of the SHA-256 of its check ID, subject, container and key. It
// does not depend on files, lines or wording, so baselines survive moving
// manifests around and rewording messages.
func Fingerprint(f Finding) string {
	h := sha256.Sum256([]byte(f.ID + "\x00" + f.Subject.Kind + "\x00" + f.Subject.Namespace + "\x00" + f.Subject.Name +
		"\x00" + f.Container + "\x00" + f.Key))
	return hex.EncodeToString(h[:8])
}

// Run audits the input with every check the configuration enables.
func Run(in Input, cfg Config) *Report {
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	c := newContext(in, cfg)
	r := &Report{CNIs: detectCNIs(c)}
	var results [][]Finding
	n := 0
	for _, chk := range registry {
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, chk.ID) || slices.Contains(cfg.Skip, chk.ID) {
			continue
		}
		r.Checks = append(r.Checks, chk)
		fs := chk.Run(c)
		for i := range fs {
			fs[i].ID = chk.ID
			if fs[i].Severity == SeverityUnknown {
				fs[i].Severity = chk.Severity
			}
		}
		results = append(results, fs)
		n += len(fs)
	}
	seen := make(map[string]bool, n)
	all := make([]Finding, 0, n)
	for _, fs := range results {
		for _, f := range fs {
			f.Fingerprint = Fingerprint(f)
			if seen[f.Fingerprint] {
				continue
			}
			seen[f.Fingerprint] = true
			all = append(all, f)
		}
	}
	sortFindings(all)

	// Filter in place: the active findings reuse all's array.
	sup := newSuppressor(c, cfg)
	r.Findings = all[:0]
	for _, f := range all {
		if s, ok := sup.suppress(f); ok {
			r.Suppressed = append(r.Suppressed, s)
			continue
		}
		r.Findings = append(r.Findings, f)
	}
	r.Notes = append(r.Notes, sup.notes()...)
	r.Scores = score(c, r.Findings)
	return r
}

// score computes the per-namespace scores.
func score(c *Context, findings []Finding) []NamespaceScore {
	byNS := map[string]*NamespaceScore{}
	get := func(ns string) *NamespaceScore {
		s := byNS[ns]
		if s == nil {
			s = &NamespaceScore{Namespace: ns, Score: 100, Failing: map[Severity]int{}}
			byNS[ns] = s
		}
		return s
	}
	for _, ns := range c.reach.namespacesWithPods() {
		get(ns)
	}
	failing := map[string]map[string]Severity{}
	for _, f := range findings {
		ns := f.Subject.NamespaceOf()
		s := get(ns)
		s.Findings++
		if failing[ns] == nil {
			failing[ns] = map[string]Severity{}
		}
		if f.Severity > failing[ns][f.ID] {
			failing[ns][f.ID] = f.Severity
		}
	}
	for ns, ids := range failing {
		s := byNS[ns]
		for _, sev := range ids {
			s.Failing[sev]++
			s.Score -= sev.Weight()
		}
		s.Score = max(s.Score, 0)
	}
	out := make([]NamespaceScore, 0, len(byNS))
	for _, s := range byNS {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out
}

// Counts returns the number of active findings per severity.
func (r *Report) Counts() map[Severity]int {
	m := map[Severity]int{}
	for _, f := range r.Findings {
		m[f.Severity]++
	}
	return m
}

// AtLeast returns the active findings of severity sev or worse.
func (r *Report) AtLeast(sev Severity) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity >= sev {
			out = append(out, f)
		}
	}
	return out
}

// Summary formats the counts: "3 critical, 5 high, 0 medium, 1 low, 0 info".
func (r *Report) Summary() string {
	m := r.Counts()
	return fmt.Sprintf("%d critical, %d high, %d medium, %d low, %d info", m[Critical], m[High], m[Medium], m[Low], m[Info])
}

// InNamespaces returns the report restricted to the findings, suppressed
// findings and scores of the given namespaces, as `kubectl -n` shows only
// namespaced objects: cluster-scoped findings (nodes, cluster bindings,
// the platform) are left out. No namespace returns r itself.
func (r *Report) InNamespaces(namespaces []string) *Report {
	if len(namespaces) == 0 {
		return r
	}
	keep := func(s Subject) bool { return slices.Contains(namespaces, s.NamespaceOf()) }
	out := *r
	out.Findings, out.Suppressed, out.Scores = nil, nil, nil
	for _, f := range r.Findings {
		if keep(f.Subject) {
			out.Findings = append(out.Findings, f)
		}
	}
	for _, s := range r.Suppressed {
		if keep(s.Subject) {
			out.Suppressed = append(out.Suppressed, s)
		}
	}
	for _, s := range r.Scores {
		if slices.Contains(namespaces, s.Namespace) {
			out.Scores = append(out.Scores, s)
		}
	}
	return &out
}
