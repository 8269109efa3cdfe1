package agent

import (
	"context"
	"strconv"
	"strings"

	"github.com/bulkhead/bulkhead/kube"
)

// KubeSource follows a live cluster through a kube.Syncer, which has the
// Source contract: the first complete state, then every batch of changes
// with its Delta, retries with backoff and periodic resyncs, and the last
// good state kept while the API server is unreachable.
type KubeSource struct {
	Syncer *kube.Syncer
}

// Run implements Source.
func (s KubeSource) Run(ctx context.Context, apply func(context.Context, Update) error) error {
	return s.Syncer.Run(ctx, func(ctx context.Context, u kube.Update) error {
		return apply(ctx, fromKube(u))
	})
}

// fromKube maps a kube.Update onto an Update. The first update carries no
// Delta (everything is new); later ones do, merged by the Syncer when
// several batches arrived during one apply.
func fromKube(u kube.Update) Update {
	out := Update{Snapshot: u.Snapshot, Resync: u.Resync, Cause: cause(u)}
	if u.Initial {
		return out
	}
	d := &Delta{}
	for _, c := range u.Delta.Endpoints {
		d.Endpoints = append(d.Endpoints, EndpointChange{Old: c.Old, New: c.New})
	}
	for _, c := range u.Delta.Policies {
		d.Policies = append(d.Policies, PolicyChange{Old: c.Old, New: c.New})
	}
	for _, c := range u.Delta.Namespaces {
		d.Namespaces = append(d.Namespaces, NamespaceChange{Old: c.Old, New: c.New})
	}
	for _, c := range u.Delta.Nodes {
		d.Nodes = append(d.Nodes, NodeChange{Old: c.Old, New: c.New})
	}
	out.Delta = d
	return out
}

// cause names the first events of an update: "pod shop/web-1 added; …
// (and 3 more)".
func cause(u kube.Update) string {
	switch {
	case u.Initial:
		return "cluster read"
	case len(u.Events) == 0 && u.Resync:
		return "periodic resync"
	}
	var parts []string
	for i, e := range u.Events {
		if i == 3 {
			parts = append(parts, "and "+strconv.Itoa(len(u.Events)-3)+" more")
			break
		}
		parts = append(parts, e.String())
	}
	return strings.Join(parts, "; ")
}
