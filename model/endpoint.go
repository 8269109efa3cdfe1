package model

import (
	"net/netip"
	"sort"
	"strings"
)

// EndpointKind says what an Endpoint stands for.
type EndpointKind uint8

const (
	EndpointUnknown EndpointKind = iota
	// EndpointPod is a bare Pod object.
	EndpointPod
	// EndpointWorkload is a workload (Deployment, StatefulSet, ...) standing
	// for every pod its template creates.
	EndpointWorkload
	// EndpointNode is a cluster node, addressable by its IPs.
	EndpointNode
	// EndpointExternal is a range of addresses outside the cluster.
	EndpointExternal
)

func (k EndpointKind) String() string {
	switch k {
	case EndpointPod:
		return "Pod"
	case EndpointWorkload:
		return "Workload"
	case EndpointNode:
		return "Node"
	case EndpointExternal:
		return "External"
	}
	return "Unknown"
}

// ContainerPort is a port a pod's container declares. Name is empty for an
// unnamed port.
type ContainerPort struct {
	Name     string
	Protocol Protocol
	Port     uint16
}

// Endpoint is one thing that can open or accept connections: a pod, a
// workload's pod template, a node, or a range of external addresses.
type Endpoint struct {
	Kind EndpointKind
	// Workload is the workload's kind ("Deployment", "CronJob", ...) for
	// EndpointWorkload, and empty otherwise.
	Workload  string
	Namespace string // "" for nodes and external endpoints
	Name      string // for external endpoints, the address ranges
	Labels    map[string]string
	// IPs are the pod's status.podIPs, a node's addresses, or nil when
	// unknown (workload templates never have IPs).
	IPs []netip.Addr
	// Ports are the ports the containers declare, for named-port
	// resolution.
	Ports []ContainerPort
	// HostNetwork pods share their node's network namespace; NetworkPolicy
	// does not apply to them.
	HostNetwork bool
	NodeName    string
	// External is the address set of an EndpointExternal.
	External IPSet
	Source   Source
}

// ID returns the endpoint's display name, which is unique in a snapshot:
// "ns/name" for a pod, "ns/name[Deployment]" for a workload, "name[Node]"
// for a node and the address ranges for an external endpoint.
func (e *Endpoint) ID() string {
	switch e.Kind {
	case EndpointWorkload:
		return e.Namespace + "/" + e.Name + "[" + e.Workload + "]"
	case EndpointNode:
		return e.Name + "[Node]"
	case EndpointExternal:
		return e.Name
	}
	return e.Namespace + "/" + e.Name
}

// IsPodLike reports whether e is a pod or a workload, the endpoints that
// label selectors in policies can select.
func (e *Endpoint) IsPodLike() bool {
	return e.Kind == EndpointPod || e.Kind == EndpointWorkload
}

// IsPolicySubject reports whether policies can apply to e: pods and
// workloads that do not use the host network.
func (e *Endpoint) IsPolicySubject() bool { return e.IsPodLike() && !e.HostNetwork }

// ResolveNamedPort returns the port numbers of e's containers that declare
// a port called name. Protocol ProtocolUnknown matches any protocol, as the
// cluster tiers' named ports do; otherwise name and protocol must both
// match, as NetworkPolicy requires.
func (e *Endpoint) ResolveNamedPort(name string, p Protocol) ConnSet {
	var c ConnSet
	for _, cp := range e.Ports {
		if cp.Name == name && (p == ProtocolUnknown || p == cp.Protocol) {
			c = c.Union(ConnsOf(cp.Protocol, SinglePort(cp.Port)))
		}
	}
	return c
}

// Namespace is a Kubernetes namespace and its labels. Every namespace
// carries kubernetes.io/metadata.name, as the API server sets it.
type Namespace struct {
	Name   string
	Labels map[string]string
	// Declared is false for namespaces that objects refer to but no
	// manifest declares.
	Declared bool
	Source   Source
}

// NamespaceNameLabel is the label the API server sets on every namespace.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// Node is a cluster node with its labels and addresses.
type Node struct {
	Name   string
	Labels map[string]string
	IPs    []netip.Addr
	Source Source
}

// SortEndpoints orders endpoints by ID, the order every output uses.
func SortEndpoints(eps []*Endpoint) {
	sort.Slice(eps, func(i, j int) bool { return eps[i].ID() < eps[j].ID() })
}

// LabelsKey returns a canonical form of a label map: "k=v\x00" per label,
// by key. Two maps of valid labels (no "=" in keys, no NUL anywhere) have
// the same key exactly when they are equal, nil and empty alike.
func LabelsKey(ls map[string]string) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(ls[k])
		b.WriteByte(0)
	}
	return b.String()
}
