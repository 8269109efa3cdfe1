package lint

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/bulkhead/bulkhead/model"
)

// internetAllowAll reports ingress rules that admit the whole internet.
type internetAllowAll struct{}

func (internetAllowAll) Info() Info {
	return Info{
		ID: "BH-LINT-008", Name: "internet-allow-all", Severity: model.SeverityError,
		Summary: "An ingress rule admits every address, the internet included.",
		Doc: `An ingress rule with no from list (or an empty one), or whose ipBlocks
or networks cover all public addresses (0.0.0.0/0, ::/0, even with private
ranges excepted), admits connections from anywhere the network lets in.
With no ports either, the selected pods accept any connection on any port
from the internet: an error. With ports, it is a deliberate public
endpoint more often than not: the check reports it as info, so that every
public port is a decision someone can see.

The engine confirms that the rule takes effect: the check asks whether a
public address (8.8.8.8) may connect to a selected pod on the rule's
ports. Rules of policies that do not isolate ingress are ignored, as
Kubernetes ignores them.`,
		Fix: "List the peers that need access (the ingress controller's namespace, the load balancers' addresses) and the ports.",
	}
}

// internet4 and internet6 are the public address space: what is left of
// the IPv4 space without private, shared, loopback, link-local, multicast
// and reserved ranges, and IPv6 global unicast.
var internet4, internet6 = func() (model.IPSet, model.IPSet) {
	var private []netip.Prefix
	for _, p := range []string{"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4"} {
		private = append(private, netip.MustParsePrefix(p))
	}
	v4 := model.IPBlock(netip.MustParsePrefix("0.0.0.0/0")).Subtract(model.IPsOf(nil, private...))
	return v4, model.IPBlock(netip.MustParsePrefix("2000::/3"))
}()

// coversInternet reports whether rule r admits every public address.
func coversInternet(r *model.Rule) bool {
	if r.AllPeers {
		return true
	}
	var ips model.IPSet
	for _, p := range r.Peers {
		if p.Kind == model.PeerIPBlock || p.Kind == model.PeerNetworks {
			ips = ips.Union(p.IPs)
		}
	}
	return ips.Intersect(internet4).Equal(internet4) || ips.Intersect(internet6).Equal(internet6)
}

var publicAddr = netip.MustParseAddr("8.8.8.8")

func (internetAllowAll) Run(c *Context) []Finding {
	e := c.Engine
	from := e.EndpointForIP(publicAddr)
	if from == nil || from.Kind != model.EndpointExternal {
		from = &model.Endpoint{Kind: model.EndpointExternal, Name: publicAddr.String(), External: model.IPsOf([]netip.Addr{publicAddr})}
	}
	inEngine := e.Lookup(from.ID()) == from
	var out []Finding
	for _, pol := range e.Policies() {
		if !pol.Isolates(model.Ingress) {
			continue
		}
		for ri := range pol.Rules {
			r := &pol.Rules[ri]
			if r.Direction != model.Ingress || r.Action != model.Allow || !coversInternet(r) {
				continue
			}
			subjects := c.Subjects(pol).eps
			var open []*model.Endpoint
			for i, s := range subjects {
				var allowed model.ConnSet
				if inEngine {
					allowed, _ = e.Allowed(from, s)
				} else if i < 50 {
					allowed = e.Explain(from, s, model.AllConns()).Allowed
				}
				if !allowed.Intersect(r.ResolvePorts(s)).IsEmpty() {
					open = append(open, s)
				}
			}
			if c.hasWorkloads && len(open) == 0 {
				continue
			}
			peers := "its from list is empty"
			if !r.AllPeers {
				peers = "its address blocks cover the whole internet"
			}
			f := Finding{Subject: pol.Ref(), Object: pol.Source, Path: rulePath(r)}
			who := "the pods it selects"
			if len(open) > 0 {
				who = fmt.Sprintf("%s (%s)", plural(len(open), "pod"), c.idList(open, 3))
			}
			if len(r.Ports) == 0 {
				f.Msg = fmt.Sprintf("%s admits every address on every port (%s): anyone on the internet can connect to %s on any port", r.Ref(), peers, who)
				f.Fix = "List the peers that need access (the ingress controller's namespace, the load balancers' addresses) and the ports they use."
			} else {
				f.Severity = model.SeverityInfo
				var ports []string
				for _, p := range r.Ports {
					ports = append(ports, p.String())
				}
				f.Msg = fmt.Sprintf("%s admits every address (%s) on %s: anyone on the internet can connect to %s on those ports", r.Ref(), peers, strings.Join(ports, ", "), who)
				f.Fix = "If only a load balancer or an ingress controller should reach these pods, admit just its addresses or namespace; otherwise suppress this finding with the reason the port is public."
			}
			out = append(out, f)
		}
	}
	return out
}
