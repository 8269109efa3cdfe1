package lab

import (
	"fmt"
	"slices"

	"github.com/bulkhead/bulkhead/model"
)

// FromEndpoints returns a Topology with one pod for every pod and every
// workload (standing for one of its pods) among eps, named by the
// endpoint's ID, with its IPs and declared ports. Endpoints with a
// NodeName run on that node; the others are spread round-robin over
// nodes "node-1" to "node-<spread>" (one node when spread < 1), so that
// both same-node and cross-node traffic get probed.
//
// Endpoints the lab cannot build are left out, each with a note saying
// why: host-network pods (they share their node's namespace, where the
// lab has no addresses), nodes, and external ranges (give external hosts
// concrete addresses in Topology.External instead). The Topology is not
// yet resolved: Resolve or Plan checks it.
func FromEndpoints(eps []*model.Endpoint, spread int) (Topology, []string) {
	spread = max(spread, 1)
	var t Topology
	var notes []string
	next := 0
	for _, ep := range eps {
		switch {
		case !ep.IsPodLike():
			notes = append(notes, fmt.Sprintf("%s: a %s is not a pod; the lab builds pods only", ep.ID(), ep.Kind))
			continue
		case ep.HostNetwork:
			notes = append(notes, fmt.Sprintf("%s: uses the host network, which the lab does not model", ep.ID()))
			continue
		}
		node := ep.NodeName
		if node == "" {
			node = fmt.Sprintf("node-%d", next%spread+1)
			next++
		}
		t.Hosts = append(t.Hosts, Host{
			Name:  HostName(ep.ID()),
			Node:  node,
			Addrs: slices.Clone(ep.IPs),
			Ports: slices.Clone(ep.Ports),
		})
	}
	return t, notes
}
