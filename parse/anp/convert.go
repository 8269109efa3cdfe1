package anp

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bulkhead/bulkhead/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits from the kubebuilder markers of network-policy-api v0.3.0. The
// v1alpha1 kinds (apis/v1alpha1/adminnetworkpolicy_types.go,
// baselineadminnetworkpolicy_types.go) allow 100 rules per direction, 100
// peers and 100 ports per rule; ClusterNetworkPolicy (v1alpha2 and v1beta1,
// config/crd/*/policy.networking.k8s.io_clusternetworkpolicies.yaml)
// allows 25 of each. Every version allows 25 networks and 25 domain names
// per peer.
const (
	maxPriority      = 1000 // spec.priority: Minimum=0, Maximum=1000
	maxRuleNameLen   = 100  // rule name: MaxLength=100
	maxCIDRLen       = 43   // CIDR: MaxLength=43
	maxNetworks      = 25   // networks: MaxItems=25
	maxDomainNames   = 25   // domainNames: MaxItems=25
	v1alpha1MaxItems = 100
	cnpMaxItems      = 25
)

// domainNamePattern is the OpenAPI pattern of the DomainName type, the
// same in apis/v1alpha1/adminnetworkpolicy_types.go and
// apis/v1beta1/clusternetworkpolicy_types.go: at least two labels, an
// optional trailing dot, and a wildcard only as a whole leading "*."
// label ("'*' may only be specified as a prefix").
var domainNamePattern = regexp.MustCompile(`^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$`)

// dialect holds what differs between the kinds and versions this package
// converts.
type dialect struct {
	kind       string
	apiVersion string
	// maxItems bounds rules per direction, peers per rule and ports (or
	// protocols) per rule.
	maxItems int
	// actions maps the action enum of the kind to the IR.
	actions map[string]model.Action
	// actionNames lists the enum in the order the CRD declares it.
	actionNames []string
	// acceptName is what the kind calls the allowing action ("Allow" or
	// "Accept"): domainNames peers are only supported with it.
	acceptName string
}

var (
	anpDialect = &dialect{
		kind:        "AdminNetworkPolicy",
		apiVersion:  "policy.networking.k8s.io/v1alpha1",
		maxItems:    v1alpha1MaxItems,
		actions:     map[string]model.Action{"Allow": model.Allow, "Deny": model.Deny, "Pass": model.Pass},
		actionNames: []string{"Allow", "Deny", "Pass"},
		acceptName:  "Allow",
	}
	banpDialect = &dialect{
		kind:        "BaselineAdminNetworkPolicy",
		apiVersion:  "policy.networking.k8s.io/v1alpha1",
		maxItems:    v1alpha1MaxItems,
		actions:     map[string]model.Action{"Allow": model.Allow, "Deny": model.Deny},
		actionNames: []string{"Allow", "Deny"},
		acceptName:  "Allow",
	}
	cnpV1alpha2 = cnpDialect("v1alpha2")
	cnpV1beta1  = cnpDialect("v1beta1")
)

// cnpDialect describes ClusterNetworkPolicy, whose v1alpha2 and v1beta1
// schemas are the same in v0.3.0.
func cnpDialect(version string) *dialect {
	return &dialect{
		kind:        "ClusterNetworkPolicy",
		apiVersion:  "policy.networking.k8s.io/" + version,
		maxItems:    cnpMaxItems,
		actions:     map[string]model.Action{"Accept": model.Allow, "Deny": model.Deny, "Pass": model.Pass},
		actionNames: []string{"Accept", "Deny", "Pass"},
		acceptName:  "Accept",
	}
}

// converter accumulates the problems of one object while it is converted,
// so that every problem is reported, not just the first.
type converter struct {
	d     *dialect
	src   model.Source
	probs []model.Problem
}

func newConverter(d *dialect, src model.Source, name string) *converter {
	if src.Kind == "" {
		src.Kind = d.kind
	}
	if src.Name == "" {
		src.Name = name
	}
	// The kinds are cluster-scoped: the API server ignores
	// metadata.namespace on them, and so do we.
	src.Namespace = ""
	return &converter{d: d, src: src}
}

func (c *converter) errorf(path, format string, args ...any) {
	c.probs = append(c.probs, model.Problem{Source: c.src, Field: path, Severity: model.SeverityError, Msg: fmt.Sprintf(format, args...)})
}

func (c *converter) warnf(path, format string, args ...any) {
	c.probs = append(c.probs, model.Problem{Source: c.src, Field: path, Severity: model.SeverityWarning, Msg: fmt.Sprintf(format, args...)})
}

// result returns p, or nil when any problem is an error: the API server
// would have rejected the object, so no cluster enforces it.
func (c *converter) result(p *model.Policy) (*model.Policy, []model.Problem) {
	for _, pr := range c.probs {
		if pr.Severity == model.SeverityError {
			return nil, c.probs
		}
	}
	return p, c.probs
}

func (c *converter) policy(name string) *model.Policy {
	return &model.Policy{Kind: c.d.kind, APIVersion: c.d.apiVersion, Name: name, Source: c.src}
}

// name validates metadata.name as the API server validates the names of
// custom resources: a required DNS-1123 subdomain.
func (c *converter) name(name string) {
	if name == "" {
		c.errorf("metadata.name", "required: the object has no name")
		return
	}
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		c.errorf("metadata.name", "invalid name %q: %s", name, msg)
	}
}

func (c *converter) priority(path string, p int32) {
	if p < 0 || p > maxPriority {
		c.errorf(path, "must be between 0 and %d, got %d", maxPriority, p)
	}
}

func (c *converter) maxItems(path string, n, max int, what string) {
	if n > max {
		c.errorf(path, "too many %s: %d, at most %d allowed", what, n, max)
	}
}

func (c *converter) ruleName(path, name string) {
	// OpenAPI maxLength counts characters, not bytes.
	if n := utf8.RuneCountInString(name); n > maxRuleNameLen {
		c.errorf(path, "may not be longer than %d characters, got %d", maxRuleNameLen, n)
	}
}

func (c *converter) action(path, a string) model.Action {
	if act, ok := c.d.actions[a]; ok {
		return act
	}
	msg := fmt.Sprintf("unsupported value %q: supported values: %s", a, quoteList(c.d.actionNames))
	switch {
	case a == "":
		msg = "required: a rule must have an action (" + strings.Join(c.d.actionNames, ", ") + ")"
	case a == "Accept" && c.d.acceptName == "Allow", a == "Allow" && c.d.acceptName == "Accept":
		msg += fmt.Sprintf(" (%s calls this action %q)", c.d.kind, c.d.acceptName)
	case a == "Pass" && c.d == banpDialect:
		msg += " (BaselineAdminNetworkPolicy has no Pass action: there is no lower tier to pass to)"
	}
	c.errorf(path, "%s", msg)
	return model.ActionUnknown
}

// selector validates ls as the API server validates label selectors and
// converts it. A nil ls selects nothing; callers decide what an absent
// field means before calling.
//
// The CRD schemas only check a selector's shape (key and operator
// present). Label syntax, values and operators are checked here with
// apimachinery's ValidateLabelSelector because implementations convert
// selectors with metav1.LabelSelectorAsSelector, which rejects what this
// rejects: a policy with such a selector cannot be enforced as written.
func (c *converter) selector(path string, ls *metav1.LabelSelector) model.Selector {
	errs := metav1validation.ValidateLabelSelector(ls, metav1validation.LabelSelectorValidationOptions{}, field.NewPath(path))
	for _, e := range errs {
		c.errorf(e.Field, "%s", e.ErrorBody())
	}
	sel, err := model.SelectorFromLabelSelector(ls)
	if err != nil {
		if len(errs) == 0 {
			c.errorf(path, "invalid label selector: %v", err)
		}
		return model.NothingSelector()
	}
	return sel
}

// podsIn is a NamespacedPod of any version.
type podsIn struct {
	namespaceSelector, podSelector *metav1.LabelSelector
}

// subject converts a subject: exactly one of namespaces and pods
// (MinProperties=1, MaxProperties=1). "namespaces" selects every pod of
// the namespaces it selects. Host-networked pods are never subjects; the
// engine applies that rule (model.Endpoint.IsPolicySubject).
func (c *converter) subject(path string, namespaces *metav1.LabelSelector, pods *podsIn) model.Subject {
	set := setFields([]string{"namespaces", "pods"}, namespaces != nil, pods != nil)
	if len(set) != 1 {
		c.errorf(path, "exactly one of namespaces, pods must be set, %s", describeSet(set))
		return model.Subject{}
	}
	if namespaces != nil {
		return model.Subject{NamespaceSelector: c.selector(path+".namespaces", namespaces)}
	}
	return model.Subject{
		NamespaceSelector: c.selector(path+".pods.namespaceSelector", pods.namespaceSelector),
		PodSelector:       c.selector(path+".pods.podSelector", pods.podSelector),
	}
}

// peerIn is one from/to item of any kind and version. Ingress peers only
// ever have namespaces and pods; networks and domainNames are nil when
// absent and non-nil (possibly empty) when present.
type peerIn struct {
	namespaces  *metav1.LabelSelector
	pods        *podsIn
	nodes       *metav1.LabelSelector
	networks    []string
	domainNames []string
}

// peerFields lists the fields a peer type has, in declaration order: the
// ingress peers of every kind, the BANP egress peer, and the egress peers
// of ANP and ClusterNetworkPolicy.
var (
	ingressPeerFields    = []string{"namespaces", "pods"}
	banpEgressPeerFields = []string{"namespaces", "pods", "nodes", "networks"}
	egressPeerFields     = []string{"namespaces", "pods", "nodes", "networks", "domainNames"}
)

// peer converts one from/to item. Exactly one field must be set
// (MinProperties=1, MaxProperties=1); the types' docs tell implementations
// that see none to fail closed, which only happens with a CRD newer than
// the implementation. The API server rejects such peers, and so do we.
func (c *converter) peer(path string, fields []string, p peerIn, action string) (model.Peer, bool) {
	set := setFields(egressPeerFields, p.namespaces != nil, p.pods != nil, p.nodes != nil, p.networks != nil, p.domainNames != nil)
	if len(set) != 1 {
		c.errorf(path, "exactly one of %s must be set, %s", strings.Join(fields, ", "), describeSet(set))
		return model.Peer{}, false
	}
	switch {
	case p.namespaces != nil:
		// "Namespaces defines a way to select all pods within a set of
		// Namespaces. Note that host-networked pods are not included in
		// this type of peer."
		sel := c.selector(path+".namespaces", p.namespaces)
		return model.Peer{Kind: model.PeerPods, NamespaceSelector: sel, Text: "namespaces " + sel.String()}, true
	case p.pods != nil:
		ns := c.selector(path+".pods.namespaceSelector", p.pods.namespaceSelector)
		pod := c.selector(path+".pods.podSelector", p.pods.podSelector)
		return model.Peer{Kind: model.PeerPods, NamespaceSelector: ns, PodSelector: pod,
			Text: "pods " + pod.String() + " in namespaces " + ns.String()}, true
	case p.nodes != nil:
		// "It selects the nodeIPs as the peer type by matching on the IPs
		// present in the node.Status.Addresses field of the node."
		sel := c.selector(path+".nodes", p.nodes)
		return model.Peer{Kind: model.PeerNodes, NodeSelector: sel, Text: "nodes " + sel.String()}, true
	case p.networks != nil:
		ips, ok := c.networks(path+".networks", p.networks)
		return model.Peer{Kind: model.PeerNetworks, IPs: ips, Text: "networks " + strings.Join(p.networks, ",")}, ok
	default:
		names, ok := c.domainNames(path+".domainNames", p.domainNames, action)
		return model.Peer{Kind: model.PeerDomains, Domains: names, Text: "domainNames " + strings.Join(p.domainNames, ",")}, ok
	}
}

// networks converts a networks peer. Each item must pass the CRD's CEL
// rule `isCIDR(self) && cidr(self) == cidr(self).masked()`: Kubernetes'
// CEL isCIDR parses with netip.ParsePrefix and rejects IPv4-mapped IPv6
// addresses (k8s.io/apiserver/pkg/cel/library/cidr.go), and the address
// must have no bits set after the prefix length.
func (c *converter) networks(path string, cidrs []string) (model.IPSet, bool) {
	var prefixes []netip.Prefix
	ok := c.stringSet(path, "networks", "CIDR", cidrs, maxNetworks, func(ipath, s string) bool {
		if n := utf8.RuneCountInString(s); n > maxCIDRLen {
			c.errorf(ipath, "may not be longer than %d characters, got %d", maxCIDRLen, n)
			return false
		}
		p, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			c.errorf(ipath, "invalid CIDR %q: want an IPv4 or IPv6 prefix such as 10.0.0.0/8 or fd00::/8", s)
		case p.Addr().Is4In6():
			c.errorf(ipath, "invalid CIDR %q: IPv4-mapped IPv6 addresses are not allowed; write the IPv4 prefix", s)
		case p != p.Masked():
			c.errorf(ipath, "invalid CIDR %q: bits are set after the prefix length; did you mean %s?", s, p.Masked())
		default:
			prefixes = append(prefixes, p)
			return true
		}
		return false
	})
	return model.IPsOf(nil, prefixes...), ok
}

// stringSet checks a list of 1 to max unique items (+listType=set,
// MinItems=1, MaxItems=max) and each item with check, reporting every
// problem. It reports whether all is well.
func (c *converter) stringSet(path, field, what string, items []string, max int, check func(ipath, s string) bool) bool {
	if len(items) == 0 {
		c.errorf(path, "must list at least one %s", what)
		return false
	}
	ok := true
	if len(items) > max {
		c.errorf(path, "too many %ss: %d, at most %d allowed", what, len(items), max)
		ok = false
	}
	seen := make(map[string]int, len(items))
	for i, s := range items {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		if j, dup := seen[s]; dup {
			c.errorf(ipath, "duplicate value %q (also %s[%d])", s, field, j)
			ok = false
			continue
		}
		seen[s] = i
		if !check(ipath, s) {
			ok = false
		}
	}
	return ok
}

// domainNames validates a domainNames peer against the DomainName
// pattern. Its docs say "DomainNames is only supported for Accept rules"
// (v1alpha1: "ALLOW rules"), as NPEP-133 decided because a Deny by name
// cannot be enforced safely
// (https://github.com/kubernetes-sigs/network-policy-api/blob/v0.3.0/npeps/npep-133-fqdn-egress-selector.md).
// The CRDs of v0.3.0 carry no rule enforcing it, so the API server
// accepts such a peer; we keep it and warn that implementations may not
// honour it.
func (c *converter) domainNames(path string, names []string, action string) ([]string, bool) {
	ok := c.stringSet(path, "domainNames", "domain name", names, maxDomainNames, func(ipath, n string) bool {
		if !domainNamePattern.MatchString(n) {
			c.errorf(ipath, "invalid domain name %q: %s", n, domainNameHint(n))
			return false
		}
		return true
	})
	if len(names) == 0 {
		return nil, false
	}
	if action != c.d.acceptName && action != "" && c.d.actions[action] != model.ActionUnknown {
		c.warnf(path, "domainNames is only supported in %s rules, not %s: implementations may ignore this peer", c.d.acceptName, action)
	}
	return append([]string(nil), names...), ok
}

// domainNameHint explains why n does not match the DomainName pattern.
func domainNameHint(n string) string {
	rest := strings.TrimPrefix(n, "*.")
	switch {
	case strings.Contains(rest, "*"):
		return "'*' may only be a whole leading label, as in *.example.com"
	case !strings.Contains(strings.TrimSuffix(rest, "."), "."):
		return "want at least two labels, as in example.com"
	}
	return "labels are letters, digits, '-' and '_', and start and end with a letter or digit"
}

// setFields returns the names of the fields that are set.
func setFields(names []string, set ...bool) []string {
	var out []string
	for i, s := range set {
		if s {
			out = append(out, names[i])
		}
	}
	return out
}

func describeSet(set []string) string {
	if len(set) == 0 {
		return "found none"
	}
	return "found " + strings.Join(set, ", ")
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
