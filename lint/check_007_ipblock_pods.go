package lint

import (
	"fmt"
	"strings"

	"github.com/bulkhead/bulkhead/model"
)

// ipBlockContainsPods reports NetworkPolicy ipBlocks that hold pod
// addresses.
type ipBlockContainsPods struct{}

func (ipBlockContainsPods) Info() Info {
	return Info{
		ID: "BH-LINT-007", Name: "ipblock-contains-pods", Severity: model.SeverityWarning,
		Summary: "An ipBlock contains pod addresses; whether it matches those pods depends on the CNI.",
		Doc: `NetworkPolicy ipBlocks are meant for addresses outside the cluster
("cluster-external IPs"). Pod addresses are ephemeral, and implementations
disagree on whether an ipBlock matches traffic of pods whose address it
holds: the upstream conformance tests expect it to (bulkhead's default),
several CNIs match only traffic from outside the cluster (bulkhead's
--ipblock-external-only). A rule that relies on either reading is fragile,
and a broad block (0.0.0.0/0, 10.0.0.0/8) usually admits far more pods
than its author thought.

The check reports an ipBlock that contains the address of a pod in the
input, or overlaps the cluster CIDRs given with --cluster-cidr, and whose
except list does not carve them out.`,
		Fix: "Select pods with podSelector/namespaceSelector, and list the pod CIDR in the ipBlock's except.",
	}
}

func (ipBlockContainsPods) Run(c *Context) []Finding {
	var cluster model.IPSet
	if cidrs := c.Engine.Options().ClusterCIDRs; len(cidrs) > 0 {
		cluster = model.IPsOf(nil, cidrs...)
	}
	var out []Finding
	cache := map[string][]*model.Endpoint{}
	for _, pol := range c.Engine.Policies() {
		for ri := range pol.Rules {
			r := &pol.Rules[ri]
			for j := range r.Peers {
				p := &r.Peers[j]
				if p.Kind != model.PeerIPBlock {
					continue
				}
				key := p.IPs.String()
				pods, ok := cache[key]
				if !ok {
					pods = c.podsWithIPIn(p.IPs)
					cache[key] = pods
				}
				var what []string
				if len(pods) > 0 {
					what = append(what, fmt.Sprintf("the addresses of %s (%s)", plural(len(pods), "pod"), c.idList(pods, 3)))
				}
				if overlap := p.IPs.Intersect(cluster); !overlap.IsEmpty() {
					what = append(what, "cluster addresses "+overlap.String())
				}
				if len(what) == 0 {
					continue
				}
				out = append(out, Finding{
					Subject: pol.Ref(), Object: pol.Source, Path: peerPath(r, j),
					Msg: fmt.Sprintf("%s %s contains %s: whether it matches their traffic depends on the CNI (conformance says yes, several CNIs say no)",
						r.Ref(), p, strings.Join(what, " and ")),
					Fix: "Select in-cluster peers with podSelector/namespaceSelector, and add the pod CIDR to this ipBlock's except.",
				})
			}
		}
	}
	return out
}
