package spec

import (
	"fmt"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// MaxOffending bounds the offending pairs a result lists; Result.Offending
// counts them all.
const MaxOffending = 10

// Results are the results of running a spec.
type Results struct {
	Spec    *Spec
	Results []*Result
}

// Failed counts the failed tests.
func (r *Results) Failed() int {
	n := 0
	for _, x := range r.Results {
		if !x.Passed {
			n++
		}
	}
	return n
}

// Result is the verdict of one test.
type Result struct {
	Test   *Test
	Passed bool
	// Message says in one line why the test passed or failed.
	Message string
	// Pairs is the number of ordered endpoint pairs checked: every source
	// and destination selected, except an endpoint with itself (always
	// allowed) and pairs where neither end is a pod or workload (no policy
	// decides those).
	Pairs int
	// Offending counts the pairs that break the test; Examples lists the
	// first MaxOffending of them in endpoint order.
	Offending int
	Examples  []Pair
	// Unmatched lists the selectors that match no endpoint.
	Unmatched []*Selector
	// Explanation is the decision trace of one pair: the first offending
	// pair of a failed test, or one covered pair of a passed one. Nil when
	// no pair was checked.
	Explanation *eval.Decision
}

// Pair is one endpoint pair with what the policies allow between them.
type Pair struct {
	Src, Dst         *model.Endpoint
	Allowed, Unknown model.ConnSet
}

// Run evaluates every test of s against the engine.
func Run(s *Spec, e *eval.Engine) *Results {
	r := &runner{spec: s, e: e, index: map[*model.Endpoint]int{}}
	for i, ep := range e.Endpoints() {
		r.index[ep] = i
	}
	out := &Results{Spec: s}
	for _, t := range s.Tests {
		out.Results = append(out.Results, r.run(t))
	}
	return out
}

type runner struct {
	spec  *Spec
	e     *eval.Engine
	index map[*model.Endpoint]int
	conn  *eval.Connectivity // computed on first need
}

// set is a set of endpoints as a membership vector over Engine.Endpoints.
type set []bool

func (r *runner) newSet() set { return make(set, len(r.e.Endpoints())) }

func (s set) count() int {
	n := 0
	for _, b := range s {
		if b {
			n++
		}
	}
	return n
}

// matches reports whether selector sel selects ep, zones excepted.
func (r *runner) matches(sel *Selector, ep *model.Endpoint) bool {
	if sel.podFields() {
		if !ep.IsPodLike() {
			return false
		}
		if sel.Namespace != "" && ep.Namespace != sel.Namespace {
			return false
		}
		if sel.NamespaceLabels != nil {
			ls := map[string]string{model.NamespaceNameLabel: ep.Namespace}
			if ns := r.e.Snapshot().Namespace(ep.Namespace); ns != nil {
				ls = ns.Labels
			}
			if !sel.NamespaceLabels.Matches(ls) {
				return false
			}
		}
		if sel.Labels != nil && !sel.Labels.Matches(ep.Labels) {
			return false
		}
		if sel.Workload != "" && ep.ID() != sel.Workload && ep.Namespace+"/"+ep.Name != sel.Workload {
			return false
		}
	}
	if sel.External && ep.Kind != model.EndpointExternal {
		return false
	}
	if sel.CIDR.IsValid() {
		if ep.Kind != model.EndpointExternal || !ep.External.Overlaps(model.IPsOf(nil, sel.CIDR)) {
			return false
		}
	}
	return true
}

// resolve returns the endpoints sels select (their union), and the
// selectors, or zone selectors, that select nothing.
func (r *runner) resolve(sels []*Selector) (set, []*Selector) {
	out := r.newSet()
	var unmatched []*Selector
	for _, sel := range sels {
		var zone set
		if sel.Zone != "" {
			var zu []*Selector
			zone, zu = r.zone(sel.Zone)
			unmatched = append(unmatched, zu...)
		}
		n := 0
		for i, ep := range r.e.Endpoints() {
			if (zone == nil || zone[i]) && r.matches(sel, ep) {
				out[i] = true
				n++
			}
		}
		if n == 0 {
			unmatched = append(unmatched, sel)
		}
	}
	return out, unmatched
}

// zone returns a zone's endpoints.
func (r *runner) zone(name string) (set, []*Selector) {
	if name == Internet {
		out := r.newSet()
		for i, ep := range r.e.Endpoints() {
			out[i] = ep.Kind == model.EndpointExternal
		}
		return out, nil
	}
	return r.resolve(r.spec.Zone(name).Selectors)
}

// zones returns the union of the named zones.
func (r *runner) zones(names []string) (set, []*Selector) {
	out := r.newSet()
	var unmatched []*Selector
	for _, name := range names {
		z, u := r.zone(name)
		unmatched = append(unmatched, u...)
		for i, b := range z {
			out[i] = out[i] || b
		}
	}
	return out, unmatched
}

func (r *runner) run(t *Test) *Result {
	res := &Result{Test: t}
	var src, dst set
	expect := t.Expect
	vacuousOK := false
	if t.IsZoneRule() {
		zone, u1 := r.zone(t.Zone)
		listed, u2 := r.zones(t.Zones)
		res.Unmatched = append(u1, u2...)
		if zone.count() == 0 && t.Zone == Internet {
			res.Unmatched = append(res.Unmatched, &Selector{Zone: Internet, Field: t.Field + ".zone", Line: t.Line})
		}
		expect = Deny
		switch t.Rule {
		case NotReachableFrom:
			src, dst = listed, zone
		case ReachableOnlyFrom:
			src, dst = r.complement(zone, listed), zone
			vacuousOK = true
		case MayReachOnly:
			src, dst = zone, r.complement(zone, listed)
			vacuousOK = true
		}
	} else {
		var u1, u2 []*Selector
		src, u1 = r.resolve(t.From)
		dst, u2 = r.resolve(t.To)
		res.Unmatched = append(u1, u2...)
	}
	if len(res.Unmatched) > 0 {
		var parts []string
		for _, s := range res.Unmatched {
			parts = append(parts, fmt.Sprintf("%s (%s)", s, s.Field))
		}
		res.Message = "selects nothing: " + strings.Join(parts, "; ")
		return res
	}
	r.check(t, expect, src, dst, res)
	switch {
	case res.Pairs == 0 && vacuousOK:
		res.Passed = true
		res.Message = "no endpoint outside the zones named; nothing can break the rule"
	case res.Pairs == 0:
		res.Message = "no pair of endpoints to check: the sources and destinations are the same single endpoint, or none of them is a pod or workload"
	case res.Offending == 0:
		res.Passed = true
		res.Message = fmt.Sprintf("all %d pairs %s", res.Pairs, verb(expect, t))
	default:
		res.Message = fmt.Sprintf("%d of %d pairs %s", res.Offending, res.Pairs, failVerb(expect, t))
	}
	return res
}

func verb(e Expect, t *Test) string {
	any := t.Ports.IsAll()
	switch {
	case e == Allow:
		return "allow " + t.PortsString()
	case e == AllowSome && any:
		return "allow some connection"
	case e == AllowSome:
		return "allow some of " + t.PortsString()
	case any:
		return "deny everything"
	}
	return "deny " + t.PortsString()
}

func failVerb(e Expect, t *Test) string {
	any := t.Ports.IsAll()
	switch {
	case e == Allow:
		return "do not allow all of " + t.PortsString()
	case e == AllowSome && any:
		return "allow nothing"
	case e == AllowSome:
		return "allow none of " + t.PortsString()
	case any:
		return "allow something"
	}
	return "allow some of " + t.PortsString()
}

// complement returns every endpoint in neither a nor b.
func (r *runner) complement(a, b set) set {
	out := r.newSet()
	for i := range out {
		out[i] = !a[i] && !b[i]
	}
	return out
}

// offends reports whether a pair with these connections breaks the
// expectation, and the connections that show it.
func offends(expect Expect, ports, allowed, unknown model.ConnSet) (bool, model.ConnSet) {
	switch expect {
	case Allow:
		missing := ports.Subtract(allowed)
		return !missing.IsEmpty(), missing
	case AllowSome:
		return allowed.Intersect(ports).IsEmpty(), ports
	}
	open := allowed.Union(unknown).Intersect(ports)
	return !open.IsEmpty(), open
}

// densePairs is the number of pairs above which a deny check walks the
// allowed connections instead of asking the engine pair by pair.
const densePairs = 1 << 18

// check counts the pairs of src × dst and those that break the
// expectation, and explains one.
func (r *runner) check(t *Test, expect Expect, src, dst set, res *Result) {
	eps := r.e.Endpoints()
	policyPair := func(i, j int) bool { return i != j && (eps[i].IsPodLike() || eps[j].IsPodLike()) }
	var first, firstBad *Pair
	var badScope model.ConnSet
	record := func(i, j int, allowed, unknown model.ConnSet) {
		bad, scope := offends(expect, t.Ports, allowed, unknown)
		p := Pair{eps[i], eps[j], allowed, unknown}
		if first == nil {
			first = &p
		}
		if !bad {
			return
		}
		if firstBad == nil {
			firstBad, badScope = &p, scope
		}
		res.Offending++
		if len(res.Examples) < MaxOffending {
			res.Examples = append(res.Examples, p)
		}
	}
	ns, nd := src.count(), dst.count()
	if expect == Deny && ns*nd > densePairs {
		// Only allowed connections can break a deny: walk them.
		if r.conn == nil {
			r.conn = r.e.Connectivity()
		}
		r.conn.Each(func(c eval.Conn) bool {
			i, j := r.index[c.Src], r.index[c.Dst]
			if src[i] && dst[j] {
				record(i, j, c.Allowed, c.Unknown)
			}
			return true
		})
		res.Pairs = r.countPairs(src, dst)
		if first == nil {
			// No pair allows anything: explain the first pair checked.
			first = r.firstPair(src, dst, policyPair)
		}
	} else {
		for i, in := range src {
			if !in {
				continue
			}
			for j, out := range dst {
				if !out || !policyPair(i, j) {
					continue
				}
				res.Pairs++
				allowed, unknown := r.e.Allowed(eps[i], eps[j])
				record(i, j, allowed, unknown)
			}
		}
	}
	switch {
	case firstBad != nil:
		res.Explanation = r.e.Explain(firstBad.Src, firstBad.Dst, badScope)
	case first != nil:
		scope := t.Ports
		if expect == AllowSome {
			scope = first.Allowed.Intersect(t.Ports)
		}
		res.Explanation = r.e.Explain(first.Src, first.Dst, scope)
	}
}

func (r *runner) firstPair(src, dst set, ok func(i, j int) bool) *Pair {
	eps := r.e.Endpoints()
	for i, in := range src {
		if !in {
			continue
		}
		for j, out := range dst {
			if out && ok(i, j) {
				return &Pair{Src: eps[i], Dst: eps[j]}
			}
		}
	}
	return nil
}

// countPairs counts the policy pairs of src × dst without enumerating
// them: all pairs, less an endpoint with itself, less the pairs where
// neither end is a pod or workload.
func (r *runner) countPairs(src, dst set) int {
	eps := r.e.Endpoints()
	var ns, nd, both, nps, npd, npBoth int
	for i, ep := range eps {
		pod := ep.IsPodLike()
		if src[i] {
			ns++
			if !pod {
				nps++
			}
		}
		if dst[i] {
			nd++
			if !pod {
				npd++
			}
		}
		if src[i] && dst[i] {
			both++
			if !pod {
				npBoth++
			}
		}
	}
	return ns*nd - both - (nps*npd - npBoth)
}
