package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Options configure Read and Watcher.
type Options struct {
	// Progress, when set, receives a progress line while reading takes
	// longer than a second (large clusters): on a terminal (Terminal
	// true) one line rewritten in place, else a line every few seconds.
	Progress io.Writer
	Terminal bool
	// PageSize is how many objects each LIST request asks for; 500 (as
	// kubectl) when zero.
	PageSize int64
	// Log receives debug messages; nil discards them.
	Log *slog.Logger
	// ProbeEvery is how often a Watcher checks that the API server
	// answers, once synced: informers retry a refused connection quietly,
	// so without a probe a server that went away would look like a quiet
	// cluster. Ten seconds when zero; never when negative.
	ProbeEvery time.Duration
	// KindsEvery is how often, at most, the probe also asks which
	// network-policy-api kinds the server serves (a few discovery
	// requests; see KindsChangedError). A minute when zero: every node's
	// agent asks, so the default keeps that load small.
	KindsEvery time.Duration

	// PodsOnly reads namespaces, nodes, pods and policies but no
	// workloads: what the node agent needs (it enforces for the pods on
	// its node), and so what its least-privilege ClusterRole allows.
	PodsOnly bool

	// Posture also reads the kinds the posture audit checks and the model
	// leaves out (Services, ServiceAccounts, RoleBindings,
	// ClusterRoleBindings, Istio PeerAuthentications where Istio is
	// installed, and the ConfigMaps named in PostureConfigMaps) into
	// Result.Unstructured. Never Secrets. Read only.
	Posture bool
	// PostureConfigMaps are the names of the ConfigMaps Posture reads, in
	// every namespace; no other ConfigMap is listed (they can be large and
	// hold any configuration).
	PostureConfigMaps []string

	// progress timing, for tests.
	progressDelay, progressEvery time.Duration
}

func (o Options) pageSize() int64 { return cmp.Or(o.PageSize, 500) }

// filter drops the workload kinds with PodsOnly.
func (o Options) filter(rs []*resource) []*resource {
	if !o.PodsOnly {
		return rs
	}
	var out []*resource
	for _, r := range rs {
		switch r.gvk.Kind {
		case "Namespace", "Node", "Pod":
			out = append(out, r)
		default:
			if r.gvk.Group == policyGroup || r.gvk.Group == "networking.k8s.io" {
				out = append(out, r)
			}
		}
	}
	return out
}

func (o Options) log() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

// Result is what Read found.
type Result struct {
	// Snapshot is the model of every object, as manifest.Builder makes it
	// from the same objects with model.Source{File: ""}.
	Snapshot *model.Snapshot
	// Objects are the objects read, in the order they were modelled.
	Objects []manifest.Object
	// Served are the network-policy-api kinds read, as
	// "clusternetworkpolicies.policy.networking.k8s.io/v1beta1".
	Served []string
	// Missing are the network-policy-api kinds the server does not serve
	// (CRD not installed), as "adminnetworkpolicies.policy.networking.k8s.io".
	// Their policies cannot exist in the cluster, so the model is still
	// complete; callers report them.
	Missing []string
	// Counts are the objects read per kind.
	Counts map[string]int
	// Unstructured are the objects of the posture kinds (Options.Posture),
	// in kind order, then by namespace and name.
	Unstructured []manifest.Unstructured
}

// resources returns the kinds to read: the core ones and the
// network-policy-api kinds in the version the server serves.
func resources(ctx context.Context, disc discovery.DiscoveryInterface, cluster string) (rs []*resource, served, missing []string, err error) {
	rs = append(rs, coreResources...)
	groups, err := disc.ServerGroups()
	if err != nil {
		return nil, nil, nil, classify(err, cluster, "discover", "API groups", "")
	}
	versions := map[string]bool{}
	for _, g := range groups.Groups {
		if g.Name == policyGroup {
			for _, v := range g.Versions {
				versions[v.Version] = true
			}
		}
	}
	for _, c := range policyChoices {
		var found *resource
		for _, r := range c.versions {
			if !versions[r.gvk.Version] {
				continue
			}
			list, err := disc.ServerResourcesForGroupVersion(r.gvk.GroupVersion().String())
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, nil, nil, classify(err, cluster, "discover", r.gvk.GroupVersion().String(), "")
			}
			if slices.ContainsFunc(list.APIResources, func(a metav1.APIResource) bool { return a.Name == r.plural }) {
				found = r
				break
			}
		}
		if ctx.Err() != nil {
			return nil, nil, nil, ctx.Err()
		}
		if found == nil {
			missing = append(missing, c.versions[0].name())
			continue
		}
		rs = append(rs, found)
		served = append(served, found.name()+"/"+found.gvk.Version)
	}
	return rs, served, missing, nil
}

// clients are the clients of one cluster.
type clients struct {
	cluster string
	typed   kubernetes.Interface
	dynamic dynamic.Interface
	disc    discovery.DiscoveryInterface
}

func newClients(c *Cluster) (*clients, error) {
	typed, err := kubernetes.NewForConfig(clientConfig(c.REST, true))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name(), err)
	}
	dyn, err := dynamic.NewForConfig(clientConfig(c.REST, false))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name(), err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(clientConfig(c.REST, false))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name(), err)
	}
	return &clients{cluster: c.Name(), typed: typed, dynamic: dyn, disc: disc}, nil
}

// Read lists every modelled kind from the cluster, page by page and
// kinds concurrently, and models them with a manifest.Builder. Objects are
// added kind by kind (namespaces, nodes, pods, workloads, then policies)
// and by namespace and name, so the result does not depend on timing.
//
// Every namespace is read, whatever the context's namespace: a policy in
// one namespace can select pods in another through namespaceSelector, so
// a partial read would give wrong answers (docs/live.md).
//
// A refused request is an *AccessError naming the verb, the resource and
// the namespace; an unreachable server an *UnreachableError. A
// network-policy-api kind whose CRD is not installed is listed in
// Result.Missing and is not an error.
func (c *Cluster) Read(ctx context.Context, opts Options) (*Result, error) {
	cl, err := newClients(c)
	if err != nil {
		return nil, err
	}
	rs, served, missing, err := resources(ctx, cl.disc, cl.cluster)
	rs = opts.filter(rs)
	if err != nil {
		return nil, err
	}
	if opts.Posture {
		extra, err := postureKinds(ctx, cl.disc, cl.cluster, opts.PostureConfigMaps)
		if err != nil {
			return nil, err
		}
		rs = append(rs, extra...)
	}
	prog := newCounter(rs)
	stop := startProgress(opts, "reading cluster", prog.status)
	objs, err := listAll(ctx, cl, rs, opts.pageSize(), prog)
	stop(err == nil)
	if err != nil {
		return nil, err
	}
	b := manifest.NewBuilder(manifest.Options{})
	res := &Result{Served: served, Missing: missing, Counts: map[string]int{}}
	for _, o := range objs {
		if o.Obj == nil {
			b.AddProblem(o.Problems...)
			continue
		}
		res.Counts[o.Source.Kind]++
		if ok, _ := PostureKind(o.Source.Kind); ok {
			if u, ok := unstructuredOf(o); ok {
				res.Unstructured = append(res.Unstructured, u)
			}
			continue
		}
		b.Add(o.Obj, model.Source{Kind: o.Source.Kind, Namespace: o.Source.Namespace, Name: o.Source.Name})
	}
	res.Snapshot = b.Snapshot()
	res.Objects = b.Objects()
	opts.log().Debug("read cluster", "cluster", c.Name(), "objects", len(objs), "policyKinds", served, "missing", missing)
	return res, nil
}

// listAll lists every resource concurrently and returns the objects in
// rank order, then namespace and name. Every failure is reported, in rank
// order (a user missing several permissions learns of all at once).
func listAll(ctx context.Context, cl *clients, rs []*resource, pageSize int64, prog *counter) ([]Object, error) {
	lists := make([][]Object, len(rs))
	errs := make([]error, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() { lists[i], errs[i] = listResource(ctx, cl, r, pageSize, prog) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []Object
	for _, l := range lists {
		out = append(out, l...)
	}
	return out, nil
}

// listResource lists one resource page by page. A continue token that
// expired (410 Gone) restarts the list in one piece, as client-go's pager
// does.
func listResource(ctx context.Context, cl *clients, r *resource, pageSize int64, prog *counter) ([]Object, error) {
	opts := metav1.ListOptions{Limit: pageSize, FieldSelector: r.fieldSelector}
	var out []Object
	for {
		items, next, remaining, err := listPage(ctx, cl, r, opts)
		if apierrors.IsResourceExpired(err) && opts.Continue != "" {
			out, opts = nil, metav1.ListOptions{FieldSelector: r.fieldSelector}
			prog.reset(r.gvk.Kind)
			continue
		}
		if err != nil {
			return nil, classify(err, cl.cluster, "list", r.name(), "")
		}
		out = append(out, items...)
		prog.add(r.gvk.Kind, len(items), remaining)
		if next == "" {
			break
		}
		opts.Continue = next
	}
	slices.SortFunc(out, func(a, b Object) int {
		return cmp.Or(cmp.Compare(a.Source.Namespace, b.Source.Namespace), cmp.Compare(a.Source.Name, b.Source.Name))
	})
	return out, nil
}

func listPage(ctx context.Context, cl *clients, r *resource, opts metav1.ListOptions) (items []Object, next string, remaining int64, err error) {
	var list k8sruntime.Object
	if r.typed() {
		list, err = r.list(ctx, cl.typed, opts)
	} else {
		list, err = cl.dynamic.Resource(r.gvr()).List(ctx, opts)
	}
	if err != nil {
		return nil, "", 0, err
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return nil, "", 0, err
	}
	if n := lm.GetRemainingItemCount(); n != nil {
		remaining = *n
	}
	objs, err := meta.ExtractList(list)
	if err != nil {
		return nil, "", 0, err
	}
	items = make([]Object, 0, len(objs))
	for _, o := range objs {
		items = append(items, toObject(r, o))
	}
	return items, lm.GetContinue(), remaining, nil
}

// toObject makes a listed or watched object typed, with its kind set:
// lists decoded from protobuf carry no TypeMeta, and the network-policy-api
// kinds arrive unstructured. They convert strictly, as manifests decode:
// a field bulkhead's types do not know (a newer CRD) is an error problem
// rather than silently ignored, since a dropped field can widen a policy.
func toObject(r *resource, o k8sruntime.Object) Object {
	if u, ok := o.(*unstructured.Unstructured); ok && r.newObj != nil {
		src := model.Source{Kind: r.gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
		typed := r.newObj()
		if err := k8sruntime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, typed, true); err != nil {
			return Object{Source: src, Problems: []model.Problem{{Source: src, Severity: model.SeverityError,
				Msg: fmt.Sprintf("cannot read as %s: %v", r.gvk.GroupVersion(), err)}}}
		}
		o = typed
	}
	if o.GetObjectKind().GroupVersionKind().Empty() {
		o.GetObjectKind().SetGroupVersionKind(r.gvk)
	}
	acc, err := meta.Accessor(o)
	if err != nil {
		return Object{Source: model.Source{Kind: r.gvk.Kind}, Problems: []model.Problem{{Source: model.Source{Kind: r.gvk.Kind},
			Severity: model.SeverityError, Msg: err.Error()}}}
	}
	return Object{Obj: o, Source: model.Source{Kind: r.gvk.Kind, Namespace: acc.GetNamespace(), Name: acc.GetName()}}
}
