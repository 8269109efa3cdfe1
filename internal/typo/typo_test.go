package typo_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/bulkhead/bulkhead/internal/typo"
)

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"podSelector", "podSelector", 0},
		{"podSelectr", "podSelector", 1},   // deletion
		{"podsSelector", "podSelector", 1}, // insertion
		{"podSelectar", "podSelector", 1},  // substitution
		{"postgress", "postgres", 1},
		{"ingres", "egress", 3},
		{"kitten", "sitting", 3},
		{"flaw", "lawn", 2},
		{"Spec", "spec", 1}, // case counts
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s~%s", tt.a, tt.b), func(t *testing.T) {
			if got := typo.Distance(tt.a, tt.b); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := typo.Distance(tt.b, tt.a); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	fields := []string{"podSelector", "policyTypes", "ingress", "egress"}
	tests := []struct {
		name    string
		s       string
		names   []string
		maxDist int
		want    string
	}{
		{"typo", "podSelecter", fields, 2, "podSelector"},
		{"case only", "PODSELECTOR", fields, 2, "podSelector"},
		{"case and typo", "Ingres", fields, 2, "ingress"},
		{"too far", "selector", fields, 2, ""},
		{"limit", "egres", fields, 0, ""},
		{"at the limit", "egres", fields, 1, "egress"},
		{"nearest wins", "egres", []string{"egress", "eres"}, 2, "egress"},
		{"tie: byte order", "ab", []string{"ac", "aa", "ad"}, 1, "aa"},
		{"no names", "x", nil, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every order of the names gives the same answer.
			names := slices.Clone(tt.names)
			for range 2 {
				if got := typo.Closest(tt.s, slices.Values(names), tt.maxDist); got != tt.want {
					t.Errorf("Closest(%q, %q, %d) = %q, want %q", tt.s, names, tt.maxDist, got, tt.want)
				}
				slices.Reverse(names)
			}
		})
	}
}

func ExampleClosest() {
	known := map[string]bool{"podSelector": true, "policyTypes": true, "ingress": true, "egress": true}
	fmt.Println(typo.Closest("podselecter", maps.Keys(known), 2))
	fmt.Println(typo.Closest("selector", maps.Keys(known), 2) == "")
	// Output:
	// podSelector
	// true
}
