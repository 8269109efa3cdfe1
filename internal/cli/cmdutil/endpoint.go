package cmdutil

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// ResolveEndpoint finds the endpoint a user names on the command line:
// "ns/name" (a pod, or a workload when no pod has that name), "ns/name[Kind]",
// "name[Node]", or an IP address (the pod or node that has it, else the
// external range holding it).
func ResolveEndpoint(e *eval.Engine, ref string) (*model.Endpoint, error) {
	if addr, err := netip.ParseAddr(ref); err == nil {
		if ep := e.EndpointForIP(addr); ep != nil {
			return ep, nil
		}
		return nil, fmt.Errorf("no endpoint has address %s", ref)
	}
	var exact, byName []*model.Endpoint
	for _, ep := range e.Endpoints() {
		if ep.ID() == ref {
			exact = append(exact, ep)
		}
		if ep.IsPodLike() && ep.Namespace+"/"+ep.Name == ref {
			byName = append(byName, ep)
		}
	}
	if len(exact) == 1 {
		return exact[0], nil
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		return nil, fmt.Errorf("no endpoint %q%s", ref, suggest(e, ref))
	}
	var ids []string
	for _, ep := range byName {
		ids = append(ids, ep.ID())
	}
	return nil, fmt.Errorf("%q is ambiguous: it names %s", ref, strings.Join(ids, ", "))
}

// suggest names endpoints in the same namespace, to help with typos.
func suggest(e *eval.Engine, ref string) string {
	ns, _, ok := strings.Cut(ref, "/")
	if !ok {
		return " (name endpoints as namespace/name, namespace/name[Kind], node[Node] or an IP address)"
	}
	var ids []string
	for _, ep := range e.Endpoints() {
		if ep.Namespace == ns {
			ids = append(ids, ep.ID())
		}
	}
	if len(ids) == 0 {
		return fmt.Sprintf(" (namespace %q has no pods or workloads)", ns)
	}
	sort.Strings(ids)
	if len(ids) > 10 {
		ids = append(ids[:10], "...")
	}
	return " (namespace " + ns + " has " + strings.Join(ids, ", ") + ")"
}

// ParsePortFlag parses "80/TCP", "53/udp", "http/TCP" is not accepted:
// a connection is asked about by number. The protocol defaults to TCP.
func ParsePortFlag(s string) (model.Protocol, uint16, error) {
	num, proto, hasProto := strings.Cut(s, "/")
	p := model.TCP
	if hasProto {
		var err error
		if p, err = model.ParseProtocol(proto); err != nil {
			return 0, 0, fmt.Errorf("--port %q: %w", s, err)
		}
	}
	r, err := model.ParsePortRange(num)
	if err != nil || r.First != r.Last {
		return 0, 0, fmt.Errorf("--port %q: want PORT/PROTOCOL, e.g. 80/TCP or 53/UDP", s)
	}
	return p, r.First, nil
}
