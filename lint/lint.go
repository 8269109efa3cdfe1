package lint

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// Info describes a check: what the registry, the documentation and the
// SARIF rule descriptors say about it.
type Info struct {
	// ID is the stable identifier, "BH-LINT-001". IDs are never reused.
	ID string
	// Name is a short kebab-case name, "policy-selects-nothing".
	Name string
	// Severity is the default severity of the check's findings; a check
	// may grade a finding differently (see Finding.Severity).
	Severity model.Severity
	// Summary is one sentence for tables and SARIF shortDescription.
	Summary string
	// Doc explains the mistake, why it matters and how the check decides,
	// in Markdown paragraphs.
	Doc string
	// Fix says how to fix it in general; findings carry a specific fix.
	Fix string
	// NeedsWorkloads is true for checks that can only decide with the
	// pods and workloads in the input; they report nothing without them.
	NeedsWorkloads bool
}

// Check is one lint check. Run must be deterministic and must not modify
// the context's snapshot.
type Check interface {
	Info() Info
	Run(c *Context) []Finding
}

// Finding is one mistake found by a check.
type Finding struct {
	// ID is the check's ID, e.g. "BH-LINT-006".
	ID       string
	Severity model.Severity
	// Subject names what the finding is about for people:
	// "NetworkPolicy shop-data/postgres-from-orders".
	Subject string
	// Object is the object to change to fix the mistake; its Source gives
	// the file and the document's line.
	Object model.Source
	// Path is the field of Object the finding is about, as
	// "spec.ingress[0].from[1]"; empty for the whole object.
	Path string
	// File and Line locate the finding: Object's file, and the line of
	// Path when a Locator found it, else the object's line.
	File string
	Line int
	Msg  string
	Fix  string
	// Related lists other objects involved (the covering policy of a
	// redundant rule, the workloads cut off from DNS). A suppression on
	// any of them also suppresses the finding.
	Related []model.Source
	// Key tells apart findings of one check on one object and path (the
	// other rule of a pair); it is part of the fingerprint.
	Key string

	// Suppressed is set by Run when an annotation suppresses the finding,
	// with the annotation's reason.
	Suppressed bool
	Reason     string
	// Baselined is set by Baseline.Apply for findings the baseline holds.
	Baselined bool
}

// Fingerprint identifies a finding across runs: the check, the object
// (kind, namespace, name), the field path and the key, but not the file or
// the line, so that moving an object or editing around it keeps the
// fingerprint. It is 16 hex digits of a SHA-256.
func (f *Finding) Fingerprint() string {
	h := sha256.New()
	for _, s := range []string{f.ID, f.Object.Kind, f.Object.Namespace, f.Object.Name, f.Path, f.Key} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Location formats the finding's place: "file.yaml:12" or "".
func (f *Finding) Location() string {
	return model.Source{File: f.File, Line: f.Line}.Location()
}

// Active reports whether the finding counts: neither suppressed nor in the
// baseline.
func (f *Finding) Active() bool { return !f.Suppressed && !f.Baselined }

// registry lists every check in ID order. The order is the order of the
// documentation and of the SARIF rules array.
var registry = []Check{
	selectsNothing{},
	peerMatchesNothing{},
	namedPortUnserved{},
	egressWithoutDNS{},
	invertedDirection{},
	orInsteadOfAnd{},
	ipBlockContainsPods{},
	internetAllowAll{},
	redundantRule{},
	unreachableRule{},
	selectsHostNetwork{},
	passToNothing{},
	ambiguousPriority{},
	badSuppression{},
}

// Checks returns every check, in ID order.
func Checks() []Check { return slices.Clone(registry) }

// Lookup returns the check with the given ID, or nil.
func Lookup(id string) Check {
	for _, c := range registry {
		if c.Info().ID == id {
			return c
		}
	}
	return nil
}

// Options configure Run.
type Options struct {
	// Only runs just these check IDs when not empty.
	Only []string
	// Skip leaves out these check IDs.
	Skip []string
	// Annotations returns the annotations of the object at src, or nil.
	// Run reads suppressions from them; without it nothing is suppressed.
	Annotations func(src model.Source) map[string]string
	// Locate returns the line of the field path in the object at src, or
	// 0 when it cannot tell; Run then uses the object's line.
	Locate func(src model.Source, path string) int
}

// Result is what Run found.
type Result struct {
	// Findings in order of file, line, ID, then subject.
	Findings []Finding
	// Skipped names the checks that could not decide anything, and why
	// (for example, no pods or workloads in the input).
	Skipped []string
}

// Run runs the checks on e's snapshot. Unknown IDs in opts are errors.
func Run(e *eval.Engine, opts Options) (*Result, error) {
	for _, id := range slices.Concat(opts.Only, opts.Skip) {
		if Lookup(id) == nil {
			return nil, fmt.Errorf("unknown check %q (see 'bulkhead lint --list-checks')", id)
		}
	}
	c := newContext(e, opts.Annotations)
	res := &Result{}
	for _, ch := range registry {
		info := ch.Info()
		if len(opts.Only) > 0 && !slices.Contains(opts.Only, info.ID) || slices.Contains(opts.Skip, info.ID) {
			continue
		}
		if info.NeedsWorkloads && !c.hasWorkloads {
			res.Skipped = append(res.Skipped, info.ID+" "+info.Name+": the input has no pods or workloads")
			continue
		}
		for _, f := range ch.Run(c) {
			f.ID = info.ID
			if f.Severity == model.SeverityUnknown {
				f.Severity = info.Severity
			}
			if f.Subject == "" {
				f.Subject = f.Object.Object()
			}
			f.File, f.Line = f.Object.File, f.Object.Line
			if opts.Locate != nil && f.Path != "" {
				if l := opts.Locate(f.Object, f.Path); l > 0 {
					f.Line = l
				}
			}
			res.Findings = append(res.Findings, f)
		}
	}
	c.suppress(res.Findings)
	SortFindings(res.Findings)
	return res, nil
}

// SortFindings orders findings by file, line, ID, subject and key.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.ID, b.ID),
			cmp.Compare(a.Subject, b.Subject),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Key, b.Key),
		)
	})
}

// Counts tallies active findings by severity, and the suppressed and
// baselined ones.
type Counts struct {
	Errors, Warnings, Infos int
	Suppressed, Baselined   int
}

// Count tallies fs.
func Count(fs []Finding) Counts {
	var n Counts
	for _, f := range fs {
		switch {
		case f.Suppressed:
			n.Suppressed++
		case f.Baselined:
			n.Baselined++
		case f.Severity == model.SeverityError:
			n.Errors++
		case f.Severity == model.SeverityWarning:
			n.Warnings++
		default:
			n.Infos++
		}
	}
	return n
}

// String formats the counts: "1 error, 2 warnings, 0 infos (1 suppressed)".
func (n Counts) String() string {
	s := fmt.Sprintf("%s, %s, %s", plural(n.Errors, "error"), plural(n.Warnings, "warning"), plural(n.Infos, "info"))
	if e := n.extra(); e != "" {
		s += " (" + e + ")"
	}
	return s
}

// extra formats the suppressed and baselined counts, or "".
func (n Counts) extra() string {
	var extra []string
	if n.Suppressed > 0 {
		extra = append(extra, fmt.Sprintf("%d suppressed", n.Suppressed))
	}
	if n.Baselined > 0 {
		extra = append(extra, fmt.Sprintf("%d in the baseline", n.Baselined))
	}
	return strings.Join(extra, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ParseSeverity parses "error", "warning", "info" or "none" (which no
// finding reaches: nothing fails).
func ParseSeverity(s string) (model.Severity, error) {
	switch strings.ToLower(s) {
	case "error":
		return model.SeverityError, nil
	case "warning":
		return model.SeverityWarning, nil
	case "info":
		return model.SeverityInfo, nil
	case "none":
		return model.SeverityUnknown, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning, info or none)", s)
}

// Failing returns the active findings at or above severity min; with
// min SeverityUnknown ("none") nothing fails.
func Failing(fs []Finding, min model.Severity) []Finding {
	if min == model.SeverityUnknown {
		return nil
	}
	var out []Finding
	for _, f := range fs {
		if f.Active() && f.Severity >= min {
			out = append(out, f)
		}
	}
	return out
}
