package model

import "sort"

// Snapshot is the whole input bulkhead reasons about: namespaces,
// endpoints, nodes and policies, as loaded from manifests or a cluster,
// with the problems found while loading them.
type Snapshot struct {
	Namespaces map[string]*Namespace
	// Endpoints are the pods and workloads, sorted by ID.
	Endpoints []*Endpoint
	Nodes     []*Node
	Policies  []*Policy
	// Skipped counts objects of kinds bulkhead does not model, by kind.
	Skipped map[string]int
	// SkippedObjects lists them, for -v.
	SkippedObjects []Source
	Problems       []Problem
}

// Namespace returns the namespace called name, or nil.
func (s *Snapshot) Namespace(name string) *Namespace {
	if s.Namespaces == nil {
		return nil
	}
	return s.Namespaces[name]
}

// NamespaceNames returns the namespace names in order.
func (s *Snapshot) NamespaceNames() []string {
	names := make([]string, 0, len(s.Namespaces))
	for n := range s.Namespaces {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Errors returns the problems of error severity.
func (s *Snapshot) Errors() []Problem {
	var out []Problem
	for _, p := range s.Problems {
		if p.Severity == SeverityError {
			out = append(out, p)
		}
	}
	return out
}
