package netpol

import (
	"net/netip"
	"strings"

	"github.com/bulkhead/bulkhead/model"
	"go4.org/netipx"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

// Kind and APIVersion name the object kind this package converts.
const (
	Kind       = "NetworkPolicy"
	APIVersion = "networking.k8s.io/v1"
)

// FromNetworkPolicy converts a networking.k8s.io/v1 NetworkPolicy into a
// model.Policy of tier TierNetworkPolicy. It validates the object as the
// API server's ValidateNetworkPolicy does (with strict IP and CIDR
// validation, the StrictIPCIDRValidation default) and collects every
// problem, each with src and the exact field path
// ("spec.ingress[0].ports[1].endPort"). When the API server would reject
// the object, FromNetworkPolicy returns a nil policy and the problems.
//
// The policy keeps the rules of both directions even when its
// (defaulted) policyTypes do not isolate one of them; the engine ignores
// the rules of a direction the policy does not isolate.
//
// An object with an empty namespace is taken to be in "default", as
// kubectl does when no namespace is set; the manifest loader sets its own
// default namespace before calling. The empty fields of src (Kind,
// Namespace, Name) are filled in from the object.
func FromNetworkPolicy(np *networkingv1.NetworkPolicy, src model.Source) (*model.Policy, []model.Problem) {
	if np == nil {
		return nil, []model.Problem{{Source: src, Severity: model.SeverityError, Msg: "no NetworkPolicy (nil object)"}}
	}
	ns := np.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	if src.Kind == "" {
		src.Kind = Kind
	}
	if src.Namespace == "" {
		src.Namespace = ns
	}
	if src.Name == "" {
		src.Name = np.Name
	}

	c := converter{ns: ns}
	c.meta(&np.ObjectMeta)
	p := &model.Policy{
		Kind:       Kind,
		APIVersion: APIVersion,
		Namespace:  ns,
		Name:       np.Name,
		Tier:       model.TierNetworkPolicy,
		Source:     src,
	}
	spec := field.NewPath("spec")

	// podSelector "selects the pods to which this NetworkPolicy object
	// applies. [...] An empty selector matches all pods in the policy's
	// namespace." The field is a struct, so absent means empty.
	p.Subject = model.Subject{
		Namespace:   ns,
		PodSelector: c.selector(&np.Spec.PodSelector, spec.Child("podSelector")),
	}

	for i, r := range np.Spec.Ingress {
		path := spec.Child("ingress").Index(i)
		p.Rules = append(p.Rules, c.rule(model.Ingress, i, r.Ports, r.From, path, "from"))
	}
	for i, r := range np.Spec.Egress {
		path := spec.Child("egress").Index(i)
		p.Rules = append(p.Rules, c.rule(model.Egress, i, r.Ports, r.To, path, "to"))
	}
	p.IngressIsolation, p.EgressIsolation = c.policyTypes(&np.Spec, spec.Child("policyTypes"))

	if len(c.errs) > 0 {
		return nil, problems(src, c.errs)
	}
	return p, nil
}

// converter accumulates the validation errors of one policy.
type converter struct {
	ns   string
	errs field.ErrorList
}

func problems(src model.Source, errs field.ErrorList) []model.Problem {
	out := make([]model.Problem, 0, len(errs))
	for _, e := range errs {
		out = append(out, model.Problem{
			Source:   src,
			Field:    e.Field,
			Severity: model.SeverityError,
			Msg:      e.ErrorBody(),
		})
	}
	return out
}

// meta checks what ValidateObjectMeta checks of the fields bulkhead uses:
// the name is a DNS subdomain, the namespace a DNS label and the labels
// valid label keys and values.
func (c *converter) meta(m *metav1.ObjectMeta) {
	path := field.NewPath("metadata")
	if m.Name == "" {
		c.errs = append(c.errs, field.Required(path.Child("name"), "name or generateName is required"))
	} else {
		for _, msg := range utilvalidation.IsDNS1123Subdomain(m.Name) {
			c.errs = append(c.errs, field.Invalid(path.Child("name"), m.Name, msg))
		}
	}
	if m.Namespace != "" {
		for _, msg := range utilvalidation.IsDNS1123Label(m.Namespace) {
			c.errs = append(c.errs, field.Invalid(path.Child("namespace"), m.Namespace, msg))
		}
	}
	c.errs = append(c.errs, metav1validation.ValidateLabels(m.Labels, path.Child("labels"))...)
}

// selector validates a present label selector as the API server does and
// converts it. It returns the zero Selector on error; the policy is then
// discarded anyway.
func (c *converter) selector(ls *metav1.LabelSelector, path *field.Path) model.Selector {
	errs := metav1validation.ValidateLabelSelector(ls, metav1validation.LabelSelectorValidationOptions{}, path)
	if len(errs) > 0 {
		c.errs = append(c.errs, errs...)
		return model.Selector{}
	}
	sel, err := model.SelectorFromLabelSelector(ls)
	if err != nil {
		c.errs = append(c.errs, field.Invalid(path, model.FormatLabelSelector(ls), err.Error()))
	}
	return sel
}

// rule converts one ingress or egress rule. peersField is "from" or "to".
func (c *converter) rule(d model.Direction, i int, ports []networkingv1.NetworkPolicyPort, peers []networkingv1.NetworkPolicyPeer, path *field.Path, peersField string) model.Rule {
	r := model.Rule{Direction: d, Action: model.Allow, Index: i}
	// ports: "If this field is empty or missing, this rule matches all
	// ports (traffic not restricted by port). If this field is present and
	// contains at least one item, then this rule allows traffic only if the
	// traffic matches at least one port in the list."
	for j := range ports {
		r.Ports = append(r.Ports, c.port(&ports[j], path.Child("ports").Index(j)))
	}
	// from/to: "If this field is empty or missing, this rule matches all
	// sources (traffic not restricted by source)" / "all destinations".
	r.AllPeers = len(peers) == 0
	for j := range peers {
		r.Peers = append(r.Peers, c.peer(&peers[j], path.Child(peersField).Index(j)))
	}
	return r
}

// port converts a NetworkPolicyPort, validated as ValidateNetworkPolicyPort
// does.
func (c *converter) port(pp *networkingv1.NetworkPolicyPort, path *field.Path) model.PortSpec {
	// protocol: "The protocol (TCP, UDP, or SCTP) which traffic must
	// match. If not specified, this field defaults to TCP."
	spec := model.PortSpec{Protocol: model.TCP}
	if pp.Protocol != nil {
		switch *pp.Protocol {
		case "TCP":
		case "UDP":
			spec.Protocol = model.UDP
		case "SCTP":
			spec.Protocol = model.SCTP
		default:
			c.errs = append(c.errs, field.NotSupported(path.Child("protocol"), string(*pp.Protocol), []string{"TCP", "UDP", "SCTP"}))
		}
	}

	// port: "This can either be a numerical or named port on a pod. If
	// this field is not provided, this matches all port names and
	// numbers." endPort: "This field cannot be defined if the port field
	// is not defined or if the port field is defined as a named (string)
	// port. The endPort must be equal or greater than port."
	switch {
	case pp.Port == nil:
		if pp.EndPort != nil {
			c.errs = append(c.errs, field.Invalid(path.Child("endPort"), *pp.EndPort, "may not be specified when `port` is not specified"))
		}
		spec.Ports = model.AllPorts()
	case pp.Port.Type == intstr.Int:
		first := pp.Port.IntVal
		for _, msg := range utilvalidation.IsValidPortNum(int(first)) {
			c.errs = append(c.errs, field.Invalid(path.Child("port"), first, msg))
		}
		last := first
		if pp.EndPort != nil {
			last = *pp.EndPort
			if last < first {
				c.errs = append(c.errs, field.Invalid(path.Child("endPort"), last, "must be greater than or equal to `port`"))
			}
			for _, msg := range utilvalidation.IsValidPortNum(int(last)) {
				c.errs = append(c.errs, field.Invalid(path.Child("endPort"), last, msg))
			}
		}
		if validPort(first) && validPort(last) {
			spec.Ports = model.PortsOf(model.PortRange{First: uint16(first), Last: uint16(last)})
		}
	default:
		if pp.EndPort != nil {
			c.errs = append(c.errs, field.Invalid(path.Child("endPort"), *pp.EndPort, "may not be specified when `port` is non-numeric"))
		}
		for _, msg := range utilvalidation.IsValidPortName(pp.Port.StrVal) {
			c.errs = append(c.errs, field.Invalid(path.Child("port"), pp.Port.StrVal, msg))
		}
		spec.Name = pp.Port.StrVal
	}
	return spec
}

func validPort(p int32) bool { return p >= model.MinPort && p <= model.MaxPort }

// peer converts a NetworkPolicyPeer, validated as ValidateNetworkPolicyPeer
// does: at least one of podSelector, namespaceSelector and ipBlock, and
// ipBlock alone.
func (c *converter) peer(pp *networkingv1.NetworkPolicyPeer, path *field.Path) model.Peer {
	n := 0
	var pods, nss model.Selector
	if pp.PodSelector != nil {
		n++
		pods = c.selector(pp.PodSelector, path.Child("podSelector"))
	}
	if pp.NamespaceSelector != nil {
		n++
		nss = c.selector(pp.NamespaceSelector, path.Child("namespaceSelector"))
	}
	var ips model.IPSet
	if pp.IPBlock != nil {
		n++
		ips = c.ipBlock(pp.IPBlock, path.Child("ipBlock"))
	}
	switch {
	case n == 0:
		c.errs = append(c.errs, field.Required(path, "must specify a peer"))
		return model.Peer{}
	case n > 1 && pp.IPBlock != nil:
		// ipBlock: "If this field is set then neither of the other fields
		// can be."
		c.errs = append(c.errs, field.Forbidden(path, "may not specify both ipBlock and another peer"))
		return model.Peer{}
	case pp.IPBlock != nil:
		text := "ipBlock " + pp.IPBlock.CIDR
		if len(pp.IPBlock.Except) > 0 {
			text += " except " + strings.Join(pp.IPBlock.Except, ",")
		}
		return model.Peer{Kind: model.PeerIPBlock, IPs: ips, Text: text}
	case pp.NamespaceSelector == nil:
		// podSelector alone: "Otherwise it selects the pods matching
		// podSelector in the policy's own namespace."
		return model.Peer{
			Kind:        model.PeerPods,
			Namespace:   c.ns,
			PodSelector: pods,
			Text:        "podSelector " + model.FormatLabelSelector(pp.PodSelector),
		}
	case pp.PodSelector == nil:
		// namespaceSelector alone: "Otherwise it selects all pods in the
		// namespaces selected by namespaceSelector."
		return model.Peer{
			Kind:              model.PeerPods,
			NamespaceSelector: nss,
			Text:              "namespaceSelector " + model.FormatLabelSelector(pp.NamespaceSelector),
		}
	default:
		// Both: "the NetworkPolicyPeer as a whole selects the pods matching
		// podSelector in the Namespaces selected by NamespaceSelector."
		return model.Peer{
			Kind:              model.PeerPods,
			NamespaceSelector: nss,
			PodSelector:       pods,
			Text: "namespaceSelector " + model.FormatLabelSelector(pp.NamespaceSelector) +
				", podSelector " + model.FormatLabelSelector(pp.PodSelector),
		}
	}
}

// ipBlock validates and converts an IPBlock as ValidateIPBlock does with
// strict IP validation: cidr is required and a canonical CIDR (no leading
// zeros, no IPv4-mapped IPv6, no bits set beyond the prefix length), and
// "Except values will be rejected if they are outside the cidr range":
// each except must be a strict subset of cidr, which also rules out an
// except of the other IP family.
func (c *converter) ipBlock(b *networkingv1.IPBlock, path *field.Path) model.IPSet {
	cidrPath := path.Child("cidr")
	if b.CIDR == "" {
		c.errs = append(c.errs, field.Required(cidrPath, ""))
		return model.IPSet{}
	}
	nerr := len(c.errs)
	c.errs = append(c.errs, utilvalidation.IsValidCIDRForLegacyField(cidrPath, b.CIDR, true, nil)...)
	// Like the API server, go on checking the excepts of a cidr that only
	// the lax parser reads (leading zeros): the policy is invalid either
	// way, but every problem is reported.
	cidr, ok := laxPrefix(b.CIDR)
	if !ok {
		if len(c.errs) == nerr {
			c.errs = append(c.errs, field.Invalid(cidrPath, b.CIDR, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
		}
		return model.IPSet{}
	}
	var excepts []netip.Prefix
	for i, s := range b.Except {
		exPath := path.Child("except").Index(i)
		nerr := len(c.errs)
		c.errs = append(c.errs, utilvalidation.IsValidCIDRForLegacyField(exPath, s, true, nil)...)
		ex, ok := laxPrefix(s)
		if !ok {
			if len(c.errs) == nerr {
				c.errs = append(c.errs, field.Invalid(exPath, s, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
			}
			continue
		}
		if !cidr.Contains(ex.Addr()) || ex.Bits() <= cidr.Bits() {
			c.errs = append(c.errs, field.Invalid(exPath, s, "must be a strict subset of `cidr`"))
			continue
		}
		excepts = append(excepts, ex)
	}
	return model.IPBlock(cidr, excepts...)
}

// laxPrefix parses a CIDR as the API server's lax parser does before its
// strict checks (IPv4 octets with leading zeros, bits beyond the prefix
// length), and returns it masked. Valid policies only hold CIDRs that
// net/netip parses as they are.
func laxPrefix(s string) (netip.Prefix, bool) {
	_, ipnet, err := netutils.ParseCIDRSloppy(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	p, ok := netipx.FromStdIPNet(ipnet)
	if !ok {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// policyTypes validates spec.policyTypes and returns the directions the
// policy isolates. policyTypes: "If this field is not specified, it will
// default based on the existence of ingress or egress rules; policies that
// contain an egress section are assumed to affect egress, and all policies
// (whether or not they contain an ingress section) are assumed to affect
// ingress."
func (c *converter) policyTypes(spec *networkingv1.NetworkPolicySpec, path *field.Path) (ingress, egress bool) {
	types := spec.PolicyTypes
	if len(types) == 0 {
		return true, len(spec.Egress) > 0
	}
	if len(types) > 2 {
		c.errs = append(c.errs, field.Invalid(path, types, "may not specify more than two policyTypes"))
		return false, false
	}
	for i, t := range types {
		switch t {
		case networkingv1.PolicyTypeIngress:
			ingress = true
		case networkingv1.PolicyTypeEgress:
			egress = true
		default:
			c.errs = append(c.errs, field.NotSupported(path.Index(i), string(t), []string{"Ingress", "Egress"}))
		}
	}
	return ingress, egress
}
