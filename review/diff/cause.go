package diff

import (
	"runtime"
	"slices"
	"sync"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// attribute fills in the causes of every connection change.
func attribute(r *Report, old, new *eval.Engine) {
	polOf := map[*model.Policy]*PolicyChange{}
	for _, pc := range r.Policies {
		if pc.Old != nil {
			polOf[pc.Old] = pc
		}
		if pc.New != nil {
			polOf[pc.New] = pc
		}
	}
	epOf := map[string]*EndpointChange{}
	for _, ec := range r.Endpoints {
		epOf[ec.ID] = ec
	}
	nsOf := map[string]*NamespaceChange{}
	for _, nc := range r.Namespaces {
		nsOf[nc.Name] = nc
	}
	endpointCauses := func(c *ConnChange) []Cause {
		var out []Cause
		for _, eps := range [][2]*model.Endpoint{{c.OldSrc, c.NewSrc}, {c.OldDst, c.NewDst}} {
			ep := eps[1]
			if ep == nil {
				ep = eps[0]
			}
			if ep == nil {
				continue
			}
			if ep.Kind == model.EndpointExternal {
				// Addresses that were (or became) a pod's or node's on the
				// other side: the endpoint change that moved them.
				if eps[0] == nil || eps[1] == nil {
					for _, ec := range r.Endpoints {
						if ec.Kind != eval.Changed || !slices.Equal(ec.Old.IPs, ec.New.IPs) {
							if ipsOverlap(ec, ep.External) && !slices.ContainsFunc(out, func(x Cause) bool { return x.Endpoint == ec }) {
								out = append(out, Cause{Endpoint: ec})
							}
						}
					}
				}
				continue
			}
			if ec := epOf[ep.ID()]; ec != nil {
				out = append(out, Cause{Endpoint: ec})
			}
			if nc := nsOf[ep.Namespace]; nc != nil && ep.IsPodLike() && !slices.ContainsFunc(out, func(x Cause) bool { return x.Namespace == nc }) {
				out = append(out, Cause{Namespace: nc})
			}
		}
		return out
	}
	// Explaining a pair walks every policy: spread the pairs over the CPUs.
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for range workers {
		wg.Go(func() {
			for i := range next {
				c := &r.Conns[i]
				c.Causes = endpointCauses(c)
				if c.OldSrc != nil && c.OldDst != nil && c.NewSrc != nil && c.NewDst != nil {
					c.Causes = append(c.Causes, policyCauses(c, old, new, polOf)...)
				}
			}
		})
	}
	for i := range r.Conns {
		next <- i
	}
	close(next)
	wg.Wait()
}

// policyCauses returns the changed policies that decided part of the
// pair's connections on either side, before or after, and the changed
// NetworkPolicies behind a change of isolation.
func policyCauses(c *ConnChange, old, new *eval.Engine, polOf map[*model.Policy]*PolicyChange) []Cause {
	if len(polOf) == 0 {
		return nil
	}
	od := old.Explain(c.OldSrc, c.OldDst, model.AllConns())
	nd := new.Explain(c.NewSrc, c.NewDst, model.AllConns())
	var out []Cause
	type key struct {
		pc  *PolicyChange
		dir model.Direction
	}
	seen := map[key]bool{}
	addCause := func(pc *PolicyChange, dir model.Direction) {
		if pc == nil || seen[key{pc, dir}] {
			return
		}
		seen[key{pc, dir}] = true
		out = append(out, Cause{Policy: pc, Direction: dir})
	}
	for _, sides := range [][2]eval.Side{{od.Egress, nd.Egress}, {od.Ingress, nd.Ingress}} {
		dir := sides[0].Direction
		for _, s := range sides {
			for _, st := range s.Steps {
				if st.Policy != nil {
					addCause(polOf[st.Policy], dir)
				}
			}
		}
		if sides[0].Isolated != sides[1].Isolated {
			for _, s := range sides {
				for _, p := range s.Policies {
					if p.Tier == model.TierNetworkPolicy {
						addCause(polOf[p], dir)
					}
				}
			}
		}
	}
	return out
}

// ipsOverlap reports whether an endpoint change's addresses, before or
// after, fall in set.
func ipsOverlap(ec *EndpointChange, set model.IPSet) bool {
	for _, ep := range []*model.Endpoint{ec.Old, ec.New} {
		if ep == nil {
			continue
		}
		for _, ip := range ep.IPs {
			if set.Contains(ip) {
				return true
			}
		}
	}
	return false
}
