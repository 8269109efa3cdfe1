package model

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Selector is a Kubernetes label selector together with the text it was
// written as, so that explanations can quote it. The zero value selects
// everything, like the empty LabelSelector {} does in Kubernetes.
//
// Selector wraps the labels.Selector of k8s.io/apimachinery, so matching
// (matchLabels ANDed with matchExpressions, In, NotIn, Exists,
// DoesNotExist) is exactly the API server's.
type Selector struct {
	sel  labels.Selector
	text string
	none bool
}

// SelectorFromLabelSelector converts a LabelSelector from the Kubernetes
// API. A nil LabelSelector selects nothing and an empty one everything, as
// metav1.LabelSelectorAsSelector defines; the caller decides what an
// absent field means for its API before calling. Invalid operators and
// label values are errors.
func SelectorFromLabelSelector(ls *metav1.LabelSelector) (Selector, error) {
	if ls == nil {
		return NothingSelector(), nil
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return Selector{}, err
	}
	return Selector{sel: sel, text: FormatLabelSelector(ls)}, nil
}

// MustSelector parses a selector in kubectl's -l syntax ("app=web,tier in
// (a,b)"). It panics on error; it is for tests and examples.
func MustSelector(s string) Selector {
	sel, err := labels.Parse(s)
	if err != nil {
		panic(err)
	}
	if s == "" {
		s = "{}"
	}
	return Selector{sel: sel, text: s}
}

// NothingSelector returns a selector that selects nothing.
func NothingSelector() Selector {
	return Selector{sel: labels.Nothing(), text: "<none>", none: true}
}

// Matches reports whether the selector selects an object with labels ls.
func (s Selector) Matches(ls map[string]string) bool {
	if s.sel == nil {
		return true
	}
	return s.sel.Matches(labels.Set(ls))
}

// SelectsAll reports whether the selector selects every object, as {}
// does.
func (s Selector) SelectsAll() bool { return !s.none && (s.sel == nil || s.sel.Empty()) }

// SelectsNone reports whether the selector selects no object, as a nil
// selector does.
func (s Selector) SelectsNone() bool { return s.none }

// String returns the selector as its author wrote it, in kubectl's -l
// syntax; "{}" selects everything.
func (s Selector) String() string {
	if s.text == "" {
		return "{}"
	}
	return s.text
}

// Key returns a canonical form of the selector: two selectors with the
// same key select the same objects.
func (s Selector) Key() string {
	if s.SelectsNone() {
		return "<none>"
	}
	if s.sel == nil {
		return ""
	}
	return s.sel.String()
}

// FormatLabelSelector writes a LabelSelector in kubectl's -l syntax, with
// "{}" for the empty selector and "<none>" for nil.
func FormatLabelSelector(ls *metav1.LabelSelector) string {
	if ls == nil {
		return "<none>"
	}
	s := metav1.FormatLabelSelector(ls)
	if s == "<none>" {
		return "{}"
	}
	return s
}
