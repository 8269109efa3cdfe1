package audit

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Config tunes the audit. The zero value audits with every check and the
// defaults below.
type Config struct {
	// AllowedRegistries are the registries (and repository prefixes)
	// images may come from: "registry.k8s.io", "docker.io/library",
	// "ghcr.io/my-org". Nil means DefaultAllowedRegistries.
	AllowedRegistries []string
	// LargeImageBytes is the size above which an image is large; 0 means
	// DefaultLargeImageBytes.
	LargeImageBytes int64
	// EnvLabels are the namespace label keys that name an environment;
	// nil means DefaultEnvLabels.
	EnvLabels []string
	// MeshRootNamespace is Istio's root namespace, where a
	// PeerAuthentication without selector applies to the whole mesh;
	// "" means "istio-system".
	MeshRootNamespace string
	// Only, when not empty, runs only the checks with these IDs; Skip
	// leaves checks out.
	Only, Skip []string
	// Now is the time suppressions expire against; zero means time.Now.
	Now time.Time
	// Baseline, when set, suppresses the findings it lists.
	Baseline *Baseline
}

// DefaultAllowedRegistries are registries whose publishers are well known:
// the Kubernetes project's, Docker Hub's official images (not every Docker
// Hub user's), and the big vendors'. Set your own with
// Config.AllowedRegistries (--allowed-registry): most organisations
// should allow only their own mirror.
var DefaultAllowedRegistries = []string{
	"registry.k8s.io", "docker.io/library", "gcr.io", "mcr.microsoft.com",
	"public.ecr.aws", "quay.io", "ghcr.io", "cgr.dev",
}

// DefaultLargeImageBytes is 1 GiB.
const DefaultLargeImageBytes = 1 << 30

// DefaultEnvLabels are the namespace label keys read as environments.
var DefaultEnvLabels = []string{"env", "environment", "app.kubernetes.io/environment", "stage"}

// Context is what checks run on: the input indexed, and an engine that
// knows the probe pods (see package doc).
type Context struct {
	cfg  Config
	snap *model.Snapshot
	// Engine answers reachability questions, probes included.
	Engine *eval.Engine
	// Units are the pod templates (see Unit), in subject order.
	Units []*Unit

	namespaces map[string]*corev1.Namespace
	nodes      []*corev1.Node
	daemonSets []Object
	// unstructured objects by kind
	other map[string][]unstructuredObj
	// policyKinds counts the input's policies by kind.
	policyKinds map[string]int

	reach *reach

	unitIndex  map[Subject]*Unit
	subjects   map[objKey]Subject
	otherIndex map[Subject][]map[string]string
}

// Snapshot returns the audited snapshot (without probes).
func (c *Context) Snapshot() *model.Snapshot { return c.snap }

func newContext(in Input, cfg Config) *Context {
	c := &Context{cfg: cfg, snap: in.Snapshot, namespaces: map[string]*corev1.Namespace{},
		other: map[string][]unstructuredObj{}, policyKinds: map[string]int{}}
	for _, o := range in.Objects {
		switch obj := o.Obj.(type) {
		case *corev1.Namespace:
			c.namespaces[obj.Name] = obj
		case *corev1.Node:
			c.nodes = append(c.nodes, obj)
		case *appsv1.DaemonSet:
			c.daemonSets = append(c.daemonSets, o)
		case *unstructured.Unstructured:
			c.other[obj.GetKind()] = append(c.other[obj.GetKind()], unstructuredObj{o.Source, obj})
		}
	}
	for _, p := range in.Snapshot.Policies {
		c.policyKinds[p.Kind]++
	}
	c.Units, c.subjects = buildUnits(in.Objects)
	c.unitIndex = make(map[Subject]*Unit, len(c.Units))
	for _, u := range c.Units {
		c.unitIndex[u.Subject] = u
	}
	c.otherIndex = map[Subject][]map[string]string{}
	for _, objs := range c.other {
		for _, o := range objs {
			c.otherIndex[o.subject()] = append(c.otherIndex[o.subject()], o.GetAnnotations())
		}
	}
	c.reach = newReach(in.Snapshot, in.EngineOptions)
	c.Engine = c.reach.e
	return c
}

func (c *Context) allowedRegistries() []string {
	if c.cfg.AllowedRegistries != nil {
		return c.cfg.AllowedRegistries
	}
	return DefaultAllowedRegistries
}

func (c *Context) largeImageBytes() int64 {
	if c.cfg.LargeImageBytes > 0 {
		return c.cfg.LargeImageBytes
	}
	return DefaultLargeImageBytes
}

func (c *Context) envLabels() []string {
	if c.cfg.EnvLabels != nil {
		return c.cfg.EnvLabels
	}
	return DefaultEnvLabels
}

func (c *Context) meshRoot() string {
	if c.cfg.MeshRootNamespace != "" {
		return c.cfg.MeshRootNamespace
	}
	return "istio-system"
}

// annotations returns the annotations that may suppress findings about
// subject s: the object's own (for a unit, the workload's and its pod
// template's).
func (c *Context) annotations(f *Finding) []map[string]string {
	var out []map[string]string
	if u := c.unitIndex[f.Subject]; u != nil {
		out = append(out, u.Meta.Annotations)
		if u.PodMeta != u.Meta {
			out = append(out, u.PodMeta.Annotations)
		}
	}
	switch f.Subject.Kind {
	case "Namespace":
		if ns := c.namespaces[f.Subject.Name]; ns != nil {
			out = append(out, ns.Annotations)
		}
	case "Node":
		for _, n := range c.nodes {
			if n.Name == f.Subject.Name {
				out = append(out, n.Annotations)
			}
		}
	}
	out = append(out, c.otherIndex[f.Subject]...)
	return out
}

// namespaceAnnotations returns the annotations of namespace ns, if the
// input declares it.
func (c *Context) namespaceAnnotations(ns string) map[string]string {
	if n := c.namespaces[ns]; n != nil {
		return n.Annotations
	}
	return nil
}

// sortFindings orders findings by severity (most severe first), ID,
// subject, container and key.
func sortFindings(fs []Finding) {
	keys := make(map[Subject]string, len(fs))
	for i := range fs {
		if _, ok := keys[fs[i].Subject]; !ok {
			keys[fs[i].Subject] = fs[i].Subject.String()
		}
	}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.Severity != b.Severity {
			return cmp.Compare(b.Severity, a.Severity)
		}
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		if c := strings.Compare(keys[a.Subject], keys[b.Subject]); c != 0 {
			return c
		}
		if c := strings.Compare(a.Container, b.Container); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}

// subjectOf returns the subject findings about an endpoint go to: the unit
// its object belongs to, or the endpoint itself.
func (c *Context) subjectOf(ep *model.Endpoint) Subject {
	if s, ok := c.subjects[keyOf(ep.Source)]; ok {
		return s
	}
	return subjectOf(ep)
}

// sourceOf returns the source of the unit of subject s, or fallback.
func (c *Context) sourceOf(s Subject, fallback model.Source) model.Source {
	if u := c.unitIndex[s]; u != nil {
		return u.Source
	}
	return fallback
}
