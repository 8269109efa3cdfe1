package spec

import (
	"net/netip"
	"strings"

	"github.com/bulkhead/bulkhead/model"
)

// APIVersion and Kind identify a connectivity test document.
const (
	APIVersion = "bulkhead.dev/v1"
	Kind       = "ConnectivityTest"
)

// Internet is the built-in zone of every address outside the cluster.
const Internet = "internet"

// Spec is a parsed ConnectivityTest document.
type Spec struct {
	// File is the name the spec was parsed under, for messages.
	File string
	// Name is metadata.name.
	Name string
	// Manifests are the manifest paths the spec names, as written:
	// relative to the spec's directory unless absolute.
	Manifests []string
	// Zones are the named groups of endpoints, in the order written.
	Zones []*Zone
	Tests []*Test
}

// Zone returns the zone called name, or nil.
func (s *Spec) Zone(name string) *Zone {
	for _, z := range s.Zones {
		if z.Name == name {
			return z
		}
	}
	return nil
}

// Zone is a named group of endpoints: the union of its selectors.
type Zone struct {
	Name      string
	Selectors []*Selector
	Line      int
}

// Selector selects endpoints; its set fields are ANDed. Pod fields
// (Namespace, NamespaceLabels, Labels, Workload) select pods and
// workloads; CIDR and External select address ranges outside the cluster;
// Zone selects a zone's endpoints.
type Selector struct {
	Namespace string
	// NamespaceLabels and Labels are label selectors on the namespace's
	// and the pod's labels; nil when absent.
	NamespaceLabels, Labels *model.Selector
	// Workload is "ns/name" (a pod or a workload of that name) or
	// "ns/name[Kind]".
	Workload string
	// CIDR selects the external address ranges that overlap it.
	CIDR     netip.Prefix
	External bool
	Zone     string

	// Field and Line locate the selector in the spec.
	Field string
	Line  int
}

// String formats the selector for messages, in the spec's own syntax:
// "{namespace: shop, labels: app=web}".
func (s *Selector) String() string {
	var parts []string
	if s.Zone != "" {
		parts = append(parts, "zone: "+s.Zone)
	}
	if s.Namespace != "" {
		parts = append(parts, "namespace: "+s.Namespace)
	}
	if s.NamespaceLabels != nil {
		parts = append(parts, "namespaceLabels: "+s.NamespaceLabels.String())
	}
	if s.Labels != nil {
		parts = append(parts, "labels: "+s.Labels.String())
	}
	if s.Workload != "" {
		parts = append(parts, "workload: "+s.Workload)
	}
	if s.CIDR.IsValid() {
		parts = append(parts, "cidr: "+s.CIDR.String())
	}
	if s.External {
		parts = append(parts, "external: true")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// podFields reports whether s uses a field that selects pods.
func (s *Selector) podFields() bool {
	return s.Namespace != "" || s.NamespaceLabels != nil || s.Labels != nil || s.Workload != ""
}

// Expect is what an expectation requires of every pair it covers.
type Expect uint8

const (
	ExpectUnknown Expect = iota
	// Allow: every pair allows every listed connection.
	Allow
	// Deny: no pair allows any listed connection, not even depending on
	// domain names.
	Deny
	// AllowSome: every pair allows at least one listed connection.
	AllowSome
)

func (e Expect) String() string {
	switch e {
	case Allow:
		return "allow"
	case Deny:
		return "deny"
	case AllowSome:
		return "allow-some"
	}
	return "unknown"
}

// ZoneRule is a rule about a zone.
type ZoneRule uint8

const (
	ZoneRuleUnknown ZoneRule = iota
	// NotReachableFrom: no endpoint of the listed zones reaches the zone.
	NotReachableFrom
	// ReachableOnlyFrom: no endpoint outside the zone and the listed
	// zones reaches the zone.
	ReachableOnlyFrom
	// MayReachOnly: the zone reaches no endpoint outside itself and the
	// listed zones.
	MayReachOnly
)

func (r ZoneRule) String() string {
	switch r {
	case NotReachableFrom:
		return "notReachableFrom"
	case ReachableOnlyFrom:
		return "reachableOnlyFrom"
	case MayReachOnly:
		return "mayReachOnly"
	}
	return "unknown"
}

// Test is one item of tests: an expectation (From, To, Expect) or a zone
// rule (Zone, Rule, Zones).
type Test struct {
	// Name is the name written, or one made from the test's content.
	Name string
	// Field ("tests[2]") and Line locate the test in the spec.
	Field string
	Line  int

	From, To []*Selector
	Expect   Expect

	Zone  string
	Rule  ZoneRule
	Zones []string

	// Ports are the connections the test is about: every connection when
	// the spec lists none. PortsText is the list as written.
	Ports     model.ConnSet
	PortsText []string
}

// IsZoneRule reports whether t is a zone rule rather than an expectation.
func (t *Test) IsZoneRule() bool { return t.Rule != ZoneRuleUnknown }

// PortsString formats the test's ports as written, "any" when none are.
func (t *Test) PortsString() string {
	if len(t.PortsText) == 0 {
		return "any"
	}
	return strings.Join(t.PortsText, ", ")
}
