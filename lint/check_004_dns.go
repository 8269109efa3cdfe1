package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
)

// egressWithoutDNS reports pods whose egress policies leave them unable
// to reach the cluster DNS.
type egressWithoutDNS struct{}

func (egressWithoutDNS) Info() Info {
	return Info{
		ID: "BH-LINT-004", Name: "egress-without-dns", Severity: model.SeverityWarning,
		Summary: "Egress policies cut pods off the cluster DNS, so they cannot resolve names.",
		Doc: `Once a policy restricts a pod's egress (a NetworkPolicy with Egress in
policyTypes, or cluster-tier egress rules), everything not allowed is
denied, DNS included. Pods then fail on every name lookup, usually with
timeouts far from the policy that caused them.

The check asks the engine, for every pod or workload with egress policies,
whether it may open UDP or TCP port 53 to the cluster DNS: the pods and
workloads labelled k8s-app=kube-dns or declaring a port named dns (or
dns-tcp). When the input holds no DNS pods, it asks instead whether the pod
may reach a kube-dns pod in kube-system, a node or an address outside the
cluster on port 53. Findings are grouped by the set of policies that apply,
one finding per group, placed on the policy that isolates egress. When the
pods' egress allows DNS but the DNS pods' own ingress refuses it (a
Baseline default deny, a NetworkPolicy in kube-system), one finding per
refusing policy says so, placed on that policy.`,
		Fix:            "Add an egress rule to the cluster DNS (namespace kube-system, pods k8s-app=kube-dns) on UDP and TCP port 53.",
		NeedsWorkloads: true,
	}
}

// dnsPorts is UDP and TCP port 53.
var dnsPorts = model.ConnsOf(model.UDP, model.SinglePort(53)).Union(model.ConnsOf(model.TCP, model.SinglePort(53)))

// isDNS reports whether ep looks like a cluster DNS server.
func isDNS(ep *model.Endpoint) bool {
	if ep.Labels["k8s-app"] == "kube-dns" {
		return true
	}
	for _, p := range ep.Ports {
		if p.Name == "dns" || p.Name == "dns-tcp" {
			return true
		}
	}
	return false
}

func (egressWithoutDNS) Run(c *Context) []Finding {
	e := c.Engine
	var dns []*model.Endpoint
	for _, ns := range c.nsNames {
		for _, g := range c.byNS[ns] {
			for _, ep := range g.members {
				if isDNS(ep) {
					dns = append(dns, ep)
				}
			}
		}
	}
	hypo := &model.Endpoint{Kind: model.EndpointPod, Namespace: "kube-system", Name: "kube-dns",
		Labels: map[string]string{"k8s-app": "kube-dns"},
		Ports:  []model.ContainerPort{{Name: "dns", Protocol: model.UDP, Port: 53}, {Name: "dns-tcp", Protocol: model.TCP, Port: 53}}}
	var others []*model.Endpoint
	for _, ep := range e.Endpoints() {
		if !ep.IsPodLike() {
			others = append(others, ep)
		}
	}
	restricts := map[int]bool{}
	hypoOK := map[int]bool{}
	type cut struct {
		rep *model.Endpoint
		eps []*model.Endpoint
	}
	byProg := map[int]*cut{}
	var order []int
	for _, ns := range c.nsNames {
		for _, g := range c.byNS[ns] {
			if g.hostNet {
				continue
			}
			for _, ep := range g.members {
				p := e.ProgramOf(ep, model.Egress)
				if p == nil {
					continue
				}
				r, ok := restricts[p.ID]
				if !ok {
					r = p.Isolated() || len(p.Rules()) > 0
					restricts[p.ID] = r
				}
				if !r || c.reachesDNS(ep, dns, others, hypo, p.ID, hypoOK) {
					continue
				}
				ct := byProg[p.ID]
				if ct == nil {
					ct = &cut{rep: ep}
					byProg[p.ID] = ct
					order = append(order, p.ID)
				}
				ct.eps = append(ct.eps, ep)
			}
		}
	}
	target := "the cluster DNS (" + c.idList(dns, 2) + ")"
	if len(dns) == 0 {
		target = "a DNS server (no DNS pods are in the input; tried kube-system pods k8s-app=kube-dns, the nodes and addresses outside the cluster)"
	}
	type refusal struct {
		step    eval.Step
		flow    string
		pols    []*model.Policy
		eps     []*model.Endpoint
		related []model.Source
	}
	refused := map[string]*refusal{}
	var refusedOrder []string
	var out []Finding
	for _, id := range order {
		ct := byProg[id]
		pols := e.PoliciesFor(ct.rep, model.Egress)
		if len(pols) == 0 {
			continue
		}
		blame := blameEgress(pols)
		var refs []string
		var related []model.Source
		for _, p := range pols {
			refs = append(refs, p.Ref())
			if p != blame {
				related = append(related, p.Source)
			}
		}
		for _, ep := range ct.eps {
			related = append(related, ep.Source)
		}
		f := Finding{
			Subject: blame.Ref(), Object: blame.Source, Related: related, Key: strings.Join(refs, ","),
			Msg: fmt.Sprintf("egress of %s (%s) is restricted by %s and nothing allows UDP or TCP port 53 to %s: they cannot resolve names",
				plural(len(ct.eps), "pod"), c.idList(ct.eps, 3), strings.Join(refs, ", "), target),
			Fix: "Allow egress to the cluster DNS, e.g. to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}] with ports 53/UDP and 53/TCP.",
		}
		if len(dns) > 0 {
			// Egress may allow DNS while the DNS pods' ingress refuses it:
			// then the fix belongs to the policy that refuses, and one
			// finding per refusing rule says so for every pod it refuses.
			d := e.Explain(ct.rep, dns[0], dnsPorts)
			if !d.Egress.Allowed.IsEmpty() && d.Ingress.Allowed.IsEmpty() {
				var st eval.Step
				for i := len(d.Ingress.Steps) - 1; i >= 0; i-- {
					if d.Ingress.Steps[i].Policy != nil {
						st = d.Ingress.Steps[i]
						break
					}
				}
				key := render.Flow(d.Ingress)
				r := refused[key]
				if r == nil {
					r = &refusal{step: st, flow: key, pols: d.Ingress.Policies}
					refused[key] = r
					refusedOrder = append(refusedOrder, key)
				}
				r.eps = append(r.eps, ct.eps...)
				r.related = append(r.related, related...)
				r.related = append(r.related, blame.Source)
				continue
			}
		}
		out = append(out, f)
	}
	for _, key := range refusedOrder {
		r := refused[key]
		f := Finding{
			Msg: fmt.Sprintf("%s (%s) may send DNS queries, but the ingress of the cluster DNS %s refuses them (%s): they cannot resolve names",
				plural(len(r.eps), "pod"), c.idList(r.eps, 3), dns[0].ID(), r.flow),
			Fix:     "Admit DNS queries (UDP and TCP port 53) from these pods in the policies that select the DNS pods.",
			Related: r.related, Key: "dns-ingress",
		}
		if p := r.step.Policy; p != nil {
			f.Subject, f.Object = p.Ref(), p.Source
			if r.step.Rule != nil {
				f.Path = rulePath(r.step.Rule)
			}
		} else if i := slices.IndexFunc(r.pols, func(p *model.Policy) bool { return p.Tier == model.TierNetworkPolicy }); i >= 0 {
			// Isolated by NetworkPolicy, and no rule admits the queries.
			f.Subject, f.Object = r.pols[i].Ref(), r.pols[i].Source
		} else {
			f.Subject, f.Object = dns[0].ID(), dns[0].Source
		}
		out = append(out, f)
	}
	return out
}

// reachesDNS reports whether ep may open port 53 to a DNS server: one of
// dns, or without any, the assumed kube-dns pod hypo (cached per egress
// program), a node or an external range.
func (c *Context) reachesDNS(ep *model.Endpoint, dns, others []*model.Endpoint, hypo *model.Endpoint, prog int, hypoOK map[int]bool) bool {
	e := c.Engine
	if len(dns) > 0 {
		for _, d := range dns {
			if d == ep {
				return true
			}
			allowed, _ := e.Allowed(ep, d)
			if !allowed.Intersect(dnsPorts).IsEmpty() {
				return true
			}
		}
		return false
	}
	ok, seen := hypoOK[prog]
	if !seen {
		ok = !e.Explain(ep, hypo, dnsPorts).Egress.Allowed.IsEmpty()
		hypoOK[prog] = ok
	}
	if ok {
		return true
	}
	for _, o := range others {
		allowed, _ := e.Allowed(ep, o)
		if !allowed.Intersect(dnsPorts).IsEmpty() {
			return true
		}
	}
	return false
}

// blameEgress picks the policy to place a DNS finding on: a NetworkPolicy
// that isolates egress without egress rules (a default deny), else the
// first NetworkPolicy, else the first policy with an egress Deny rule,
// else the first policy.
func blameEgress(pols []*model.Policy) *model.Policy {
	hasEgress := func(p *model.Policy, action model.Action) bool {
		for _, r := range p.Rules {
			if r.Direction == model.Egress && (action == model.ActionUnknown || r.Action == action) {
				return true
			}
		}
		return false
	}
	for _, p := range pols {
		if p.Tier == model.TierNetworkPolicy && !hasEgress(p, model.ActionUnknown) {
			return p
		}
	}
	for _, p := range pols {
		if p.Tier == model.TierNetworkPolicy {
			return p
		}
	}
	for _, p := range pols {
		if hasEgress(p, model.Deny) {
			return p
		}
	}
	return pols[0]
}
