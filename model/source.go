package model

import (
	"fmt"
	"strings"
)

// Source says where an object came from: the file and line of the
// document, or the cluster, and the object's kind and name. The zero value
// means "unknown origin".
type Source struct {
	File      string // path, "-" for stdin, or "" for a live cluster
	Line      int    // 1-based line of the document start; 0 if unknown
	Kind      string // Kubernetes kind, e.g. "NetworkPolicy"
	Namespace string // "" for cluster-scoped objects
	Name      string
}

// Object names the object as kubectl does in messages:
// "networkpolicy shop/default-deny" or "clusternetworkpolicy tenants".
func (s Source) Object() string {
	kind := strings.ToLower(s.Kind)
	if kind == "" {
		kind = "object"
	}
	switch {
	case s.Namespace != "":
		return kind + " " + s.Namespace + "/" + s.Name
	case s.Name != "":
		return kind + " " + s.Name
	}
	return kind
}

// Location formats the file and line: "shop.yaml:12", "shop.yaml" or "".
func (s Source) Location() string {
	switch {
	case s.File == "":
		return ""
	case s.Line > 0:
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

// String formats the source as "shop.yaml:12: networkpolicy shop/x".
func (s Source) String() string {
	if loc := s.Location(); loc != "" {
		return loc + ": " + s.Object()
	}
	return s.Object()
}

// Severity grades a Problem.
type Severity uint8

const (
	SeverityUnknown Severity = iota
	SeverityInfo
	SeverityWarning
	SeverityError
)

func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return "unknown"
}

// Problem is something wrong with the input, shown to users as data:
// where it is (file, object, field path) and what is wrong. An error
// Problem is an object the API server would reject; a warning is input
// bulkhead had to skip or could not fully evaluate.
type Problem struct {
	Source   Source
	Field    string // field path, e.g. "spec.ingress[0].ports[1].endPort"
	Severity Severity
	Msg      string
}

// Error formats the problem as
// "shop.yaml:12: networkpolicy shop/x: spec.ingress[0].from[1]: msg".
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Source.String())
	if p.Field != "" {
		b.WriteString(": ")
		b.WriteString(p.Field)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	return b.String()
}
