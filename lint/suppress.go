package lint

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/bulkhead/bulkhead/model"
)

// IgnoreAnnotation is the annotation that suppresses findings on the
// object that carries it. Its value holds one or more entries, one per
// line, each a comma-separated list of check IDs, a colon and the reason,
// which is required:
//
//	bulkhead.dev/lint-ignore: "BH-LINT-008: the storefront is public by design"
//	bulkhead.dev/lint-ignore: |
//	  BH-LINT-004: batch jobs use IP addresses only
//	  BH-LINT-009, BH-LINT-010: kept for the migration, remove after Q3
//
// An entry suppresses the findings of its checks whose object, or one of
// whose related objects, carries the annotation: on a policy it covers
// the policy's findings; on a workload, the findings that name it.
const IgnoreAnnotation = "bulkhead.dev/lint-ignore"

// Suppression is one entry of an IgnoreAnnotation.
type Suppression struct {
	IDs    []string
	Reason string
}

var idPattern = regexp.MustCompile(`^BH-LINT-[0-9]{3}$`)

// ParseSuppressions parses the value of an IgnoreAnnotation. It returns
// the valid entries and an error per invalid one: an entry without a
// colon, without a reason, or naming an ID that is not a check.
func ParseSuppressions(value string) ([]Suppression, []error) {
	var out []Suppression
	var errs []error
	for _, entry := range strings.Split(value, "\n") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		ids, reason, found := strings.Cut(entry, ":")
		reason = strings.TrimSpace(reason)
		if !found {
			errs = append(errs, fmt.Errorf("%q: want \"BH-LINT-NNN: reason\"", entry))
			continue
		}
		var s Suppression
		bad := false
		for _, id := range strings.Split(ids, ",") {
			id = strings.ToUpper(strings.TrimSpace(id))
			switch {
			case !idPattern.MatchString(id):
				errs = append(errs, fmt.Errorf("%q: %q is not a check ID (want BH-LINT-NNN)", entry, id))
				bad = true
			case Lookup(id) == nil:
				errs = append(errs, fmt.Errorf("%q: no check has ID %s (see 'bulkhead lint --list-checks')", entry, id))
				bad = true
			default:
				s.IDs = append(s.IDs, id)
			}
		}
		if reason == "" {
			errs = append(errs, fmt.Errorf("%q: a reason is required after the colon, saying why the finding is accepted", entry))
			bad = true
		}
		if bad {
			continue
		}
		s.Reason = reason
		out = append(out, s)
	}
	return out, errs
}

// objectKey identifies an object for suppression lookups.
type objectKey struct{ kind, namespace, name string }

func keyOf(s model.Source) objectKey { return objectKey{s.Kind, s.Namespace, s.Name} }

// suppress marks the findings that an annotation suppresses.
func (c *Context) suppress(fs []Finding) {
	if c.annotations == nil {
		return
	}
	cache := map[objectKey][]Suppression{}
	entries := func(src model.Source) []Suppression {
		k := keyOf(src)
		if s, ok := cache[k]; ok {
			return s
		}
		s, _ := ParseSuppressions(c.annotations(src)[IgnoreAnnotation])
		cache[k] = s
		return s
	}
	for i := range fs {
		f := &fs[i]
		for _, src := range append([]model.Source{f.Object}, f.Related...) {
			for _, s := range entries(src) {
				for _, id := range s.IDs {
					if id == f.ID && !f.Suppressed {
						f.Suppressed, f.Reason = true, s.Reason
					}
				}
			}
		}
	}
}

// badSuppression reports invalid IgnoreAnnotation values.
type badSuppression struct{}

func (badSuppression) Info() Info {
	return Info{
		ID: "BH-LINT-100", Name: "invalid-suppression", Severity: model.SeverityError,
		Summary: "A bulkhead.dev/lint-ignore annotation is malformed, names an unknown check or gives no reason.",
		Doc: `Findings are suppressed per object with the annotation

    metadata:
      annotations:
        bulkhead.dev/lint-ignore: "BH-LINT-008: the storefront is public by design"

Several entries go on separate lines (a YAML block scalar, |); an entry
may list several IDs separated by commas. Every entry needs a reason
after the colon: a suppression without one hides a finding without telling
the next reader why. An invalid entry suppresses nothing and is reported
here, on the annotated object. Suppressed findings still appear in JSON
(suppressed: true, with the reason), in SARIF (as suppressions) and in the
text output with -v.`,
		Fix: `Write the entry as "BH-LINT-NNN: why this finding is accepted".`,
	}
}

func (badSuppression) Run(c *Context) []Finding {
	if c.annotations == nil {
		return nil
	}
	var srcs []model.Source
	for _, pol := range c.Snap.Policies {
		srcs = append(srcs, pol.Source)
	}
	for _, ep := range c.Snap.Endpoints {
		srcs = append(srcs, ep.Source)
	}
	for _, name := range c.Snap.NamespaceNames() {
		if ns := c.Snap.Namespaces[name]; ns.Declared {
			srcs = append(srcs, ns.Source)
		}
	}
	var out []Finding
	seen := map[objectKey]bool{}
	for _, src := range srcs {
		if seen[keyOf(src)] {
			continue
		}
		seen[keyOf(src)] = true
		v, ok := c.annotations(src)[IgnoreAnnotation]
		if !ok {
			continue
		}
		_, errs := ParseSuppressions(v)
		for _, err := range errs {
			out = append(out, Finding{Object: src, Path: "metadata.annotations", Key: err.Error(),
				Msg: fmt.Sprintf("invalid %s annotation: %v; the entry suppresses nothing", IgnoreAnnotation, err),
				Fix: `Write each entry as "BH-LINT-NNN: why this finding is accepted".`})
		}
	}
	return out
}
