package diff

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// PolicyChange is a policy added, removed or changed (Kind eval.Changed).
type PolicyChange struct {
	Kind eval.ChangeKind
	// Ref names the policy: "NetworkPolicy shop/allow-web".
	Ref string
	// Old and New are the policy before and after; nil where absent.
	Old, New *model.Policy
	// Details say what changed, for a changed policy: "priority 10 -> 20",
	// "subject", "ingress isolation", "ingress[0]", "egress[2] added".
	Details []string
}

// EndpointChange is an endpoint added, removed or changed.
type EndpointChange struct {
	Kind     eval.ChangeKind
	ID       string
	Old, New *model.Endpoint
	// Details say what changed: "labels", "named ports", "hostNetwork",
	// "addresses".
	Details []string
}

// NamespaceChange is a namespace whose labels changed, or that was added
// or removed.
type NamespaceChange struct {
	Kind     eval.ChangeKind
	Name     string
	Old, New *model.Namespace
}

// comparePolicies matches policies by kind, namespace and name.
func comparePolicies(old, new []*model.Policy) []*PolicyChange {
	key := func(p *model.Policy) string { return p.Kind + "\x00" + p.Namespace + "\x00" + p.Name }
	a, b := map[string]*model.Policy{}, map[string]*model.Policy{}
	for _, p := range old {
		a[key(p)] = p
	}
	for _, p := range new {
		b[key(p)] = p
	}
	var out []*PolicyChange
	for k, op := range a {
		np, ok := b[k]
		switch {
		case !ok:
			out = append(out, &PolicyChange{Kind: eval.Removed, Ref: op.Ref(), Old: op})
		default:
			if d := policyDetails(op, np); len(d) > 0 {
				out = append(out, &PolicyChange{Kind: eval.Changed, Ref: op.Ref(), Old: op, New: np, Details: d})
			}
		}
	}
	for k, np := range b {
		if _, ok := a[k]; !ok {
			out = append(out, &PolicyChange{Kind: eval.Added, Ref: np.Ref(), New: np})
		}
	}
	slices.SortFunc(out, func(x, y *PolicyChange) int { return cmp.Compare(x.Ref, y.Ref) })
	return out
}

// policyDetails lists what differs between two versions of a policy, in
// the engine's IR; nothing when they decide alike.
func policyDetails(a, b *model.Policy) []string {
	var d []string
	if a.Tier != b.Tier {
		d = append(d, fmt.Sprintf("tier %s -> %s", a.Tier, b.Tier))
	}
	if a.Priority != b.Priority {
		d = append(d, fmt.Sprintf("priority %d -> %d", a.Priority, b.Priority))
	}
	if subjectKey(a.Subject) != subjectKey(b.Subject) {
		d = append(d, fmt.Sprintf("subject %s -> %s", a.Subject, b.Subject))
	}
	for _, dir := range model.Directions {
		if a.Isolates(dir) != b.Isolates(dir) {
			d = append(d, fmt.Sprintf("%s isolation %v -> %v", dir, a.Isolates(dir), b.Isolates(dir)))
		}
		ra, rb := rulesOf(a, dir), rulesOf(b, dir)
		for i := range max(len(ra), len(rb)) {
			switch {
			case i >= len(ra):
				d = append(d, rb[i].Ref()+" added")
			case i >= len(rb):
				d = append(d, ra[i].Ref()+" removed")
			case ruleKey(ra[i]) != ruleKey(rb[i]):
				d = append(d, rb[i].Ref()+" changed")
			}
		}
	}
	return d
}

func rulesOf(p *model.Policy, dir model.Direction) []*model.Rule {
	var out []*model.Rule
	for i := range p.Rules {
		if p.Rules[i].Direction == dir {
			out = append(out, &p.Rules[i])
		}
	}
	return out
}

func subjectKey(s model.Subject) string {
	ns := "sel:" + s.NamespaceSelector.Key()
	if s.Namespace != "" {
		ns = "ns:" + s.Namespace
	}
	return ns + "|" + s.PodSelector.Key()
}

// ruleKey is a canonical form of a rule: two rules with the same key
// match the same connections with the same action.
func ruleKey(r *model.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%q|%v|", r.Direction, r.Action, r.Name, r.AllPeers)
	for _, p := range r.Peers {
		b.WriteString(p.Key())
		b.WriteByte(';')
	}
	b.WriteByte('|')
	for _, ps := range r.Ports {
		fmt.Fprintf(&b, "%s/%s/%s;", ps.Protocol, ps.Ports, ps.Name)
	}
	return b.String()
}

// compareEndpoints matches pods, workloads and nodes by ID. External
// endpoints are compared by address in the connection diff instead.
func compareEndpoints(old, new []*model.Endpoint) []*EndpointChange {
	a, b := map[string]*model.Endpoint{}, map[string]*model.Endpoint{}
	for _, ep := range old {
		if ep.Kind != model.EndpointExternal {
			a[ep.ID()] = ep
		}
	}
	for _, ep := range new {
		if ep.Kind != model.EndpointExternal {
			b[ep.ID()] = ep
		}
	}
	var out []*EndpointChange
	for id, oe := range a {
		ne, ok := b[id]
		switch {
		case !ok:
			out = append(out, &EndpointChange{Kind: eval.Removed, ID: id, Old: oe})
		default:
			if d := endpointDetails(oe, ne); len(d) > 0 {
				out = append(out, &EndpointChange{Kind: eval.Changed, ID: id, Old: oe, New: ne, Details: d})
			}
		}
	}
	for id, ne := range b {
		if _, ok := a[id]; !ok {
			out = append(out, &EndpointChange{Kind: eval.Added, ID: id, New: ne})
		}
	}
	slices.SortFunc(out, func(x, y *EndpointChange) int { return cmp.Compare(x.ID, y.ID) })
	return out
}

func endpointDetails(a, b *model.Endpoint) []string {
	var d []string
	if !maps.Equal(a.Labels, b.Labels) {
		d = append(d, "labels "+labelsString(a.Labels)+" -> "+labelsString(b.Labels))
	}
	if portsKey(a.Ports) != portsKey(b.Ports) {
		d = append(d, "container ports")
	}
	if a.HostNetwork != b.HostNetwork {
		d = append(d, fmt.Sprintf("hostNetwork %v -> %v", a.HostNetwork, b.HostNetwork))
	}
	if !slices.Equal(a.IPs, b.IPs) {
		d = append(d, "addresses")
	}
	return d
}

func labelsString(ls map[string]string) string {
	keys := slices.Sorted(maps.Keys(ls))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + ls[k]
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func portsKey(ports []model.ContainerPort) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = fmt.Sprintf("%s/%s/%d", p.Name, p.Protocol, p.Port)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// compareNamespaces matches namespaces by name and compares labels.
func compareNamespaces(old, new map[string]*model.Namespace) []*NamespaceChange {
	var out []*NamespaceChange
	for name, on := range old {
		nn, ok := new[name]
		switch {
		case !ok:
			out = append(out, &NamespaceChange{Kind: eval.Removed, Name: name, Old: on})
		case !maps.Equal(on.Labels, nn.Labels):
			out = append(out, &NamespaceChange{Kind: eval.Changed, Name: name, Old: on, New: nn})
		}
	}
	for name, nn := range new {
		if _, ok := old[name]; !ok {
			out = append(out, &NamespaceChange{Kind: eval.Added, Name: name, New: nn})
		}
	}
	slices.SortFunc(out, func(x, y *NamespaceChange) int { return cmp.Compare(x.Name, y.Name) })
	return out
}
