package synth

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/yaml"
)

// Config sizes a cluster.
type Config struct {
	Pods     int
	Policies int // NetworkPolicies, about
	// AdminPolicies adds v1beta1 ClusterNetworkPolicies in the Admin tier
	// (and one Baseline default) on top.
	AdminPolicies int
	Seed          uint64
}

// Cluster is a generated cluster's objects.
type Cluster struct {
	Namespaces []*corev1.Namespace
	Pods       []*corev1.Pod
	Policies   []*networkingv1.NetworkPolicy
	Cluster    []*v1beta1.ClusterNetworkPolicy
}

// Objects returns every object, namespaces first.
func (c *Cluster) Objects() []runtime.Object {
	var out []runtime.Object
	for _, o := range c.Namespaces {
		out = append(out, o)
	}
	for _, o := range c.Pods {
		out = append(out, o)
	}
	for _, o := range c.Policies {
		out = append(out, o)
	}
	for _, o := range c.Cluster {
		out = append(out, o)
	}
	return out
}

// WriteYAML writes the cluster as a multi-document YAML stream.
func (c *Cluster) WriteYAML(w io.Writer) error {
	for _, o := range c.Objects() {
		b, err := yaml.Marshal(o)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "---\n%s", b); err != nil {
			return err
		}
	}
	return nil
}

var (
	envs    = []string{"prod", "staging", "dev"}
	teams   = []string{"payments", "search", "identity", "catalog", "checkout", "data", "platform", "growth"}
	tiers   = []string{"frontend", "backend", "db", "cache", "worker"}
	appBase = []string{"web", "api", "auth", "orders", "cart", "users", "search", "index", "billing", "reports", "queue", "mailer", "gateway", "inventory", "pricing", "media"}
	// partner networks that egress rules name, some overlapping on purpose.
	partners = []string{"203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24", "198.51.100.128/25", "100.64.0.0/10", "172.16.0.0/12", "2001:db8::/32", "2001:db8:1::/48"}
)

type app struct {
	ns, name, tier string
	named          bool
}

// Generate builds a cluster. Namespaces get about 100 pods each; apps
// about 10 replicas; policies are spread over namespaces.
func Generate(cfg Config) *Cluster {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6275_6c6b))
	c := &Cluster{}
	nsCount := max(1, cfg.Pods/100)
	var nsNames []string
	for i := range nsCount {
		name := fmt.Sprintf("%s-%s-%d", teams[i%len(teams)], envs[i%len(envs)], i)
		nsNames = append(nsNames, name)
		c.Namespaces = append(c.Namespaces, &corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"env": envs[i%len(envs)], "team": teams[i%len(teams)], "tenant": fmt.Sprintf("t%d", i%7)}},
		})
	}
	for _, n := range []struct{ name, env string }{{"kube-system", "system"}, {"monitoring", "system"}} {
		c.Namespaces = append(c.Namespaces, &corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: map[string]string{"env": n.env}},
		})
	}
	ip := netip.MustParseAddr("10.0.0.10")
	nextIP := func() string {
		ip = ip.Next()
		return ip.String()
	}
	pod := func(ns, name string, labels map[string]string, ports []corev1.ContainerPort) {
		c.Pods = append(c.Pods, &corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Spec: corev1.PodSpec{
				NodeName:   fmt.Sprintf("node-%d", len(c.Pods)%50),
				Containers: []corev1.Container{{Name: "main", Image: "registry.example.com/" + labels["app"] + ":1.0", Ports: ports}},
			},
			Status: corev1.PodStatus{PodIP: nextIP()},
		})
	}
	for i := range 2 {
		pod("kube-system", fmt.Sprintf("coredns-%d", i), map[string]string{"k8s-app": "kube-dns"}, []corev1.ContainerPort{
			{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP}})
	}
	pod("monitoring", "prometheus-0", map[string]string{"app": "prometheus"}, []corev1.ContainerPort{{Name: "web", ContainerPort: 9090}})

	var apps []app
	for len(c.Pods) < cfg.Pods {
		ns := nsNames[len(apps)%len(nsNames)]
		base := appBase[(len(apps)/len(nsNames))%len(appBase)]
		a := app{ns: ns, name: base, tier: tiers[r.IntN(len(tiers))], named: r.IntN(3) > 0}
		apps = append(apps, a)
		replicas := 5 + r.IntN(11)
		hash := fmt.Sprintf("%08x", r.Uint32())
		for j := 0; j < replicas && len(c.Pods) < cfg.Pods; j++ {
			ports := []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9100}}
			if a.tier == "db" {
				ports = []corev1.ContainerPort{{Name: "sql", ContainerPort: 5432}, {Name: "metrics", ContainerPort: 9100}}
			}
			if r.IntN(10) == 0 {
				ports = append(ports, corev1.ContainerPort{Name: "sip", ContainerPort: 5060, Protocol: corev1.ProtocolSCTP})
			}
			pod(ns, fmt.Sprintf("%s-%s-%d", a.name, hash, j), map[string]string{
				"app": a.name, "tier": a.tier, "pod-template-hash": hash, "version": fmt.Sprintf("v%d", 1+r.IntN(2)),
			}, ports)
		}
	}

	byNS := map[string][]app{}
	for _, a := range apps {
		byNS[a.ns] = append(byNS[a.ns], a)
	}
	np := func(ns, name string, spec networkingv1.NetworkPolicySpec) {
		c.Policies = append(c.Policies, &networkingv1.NetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec,
		})
	}
	sel := func(kv ...string) *metav1.LabelSelector {
		ls := &metav1.LabelSelector{MatchLabels: map[string]string{}}
		for i := 0; i+1 < len(kv); i += 2 {
			ls.MatchLabels[kv[i]] = kv[i+1]
		}
		return ls
	}
	port := func(proto corev1.Protocol, p intstr.IntOrString) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &p}
	}
	for n := 0; len(c.Policies) < cfg.Policies; n++ {
		ns := nsNames[n%len(nsNames)]
		round := n / len(nsNames)
		nsApps := byNS[ns]
		if len(nsApps) == 0 {
			nsApps = apps
		}
		a := nsApps[round%len(nsApps)]
		switch {
		case round == 0:
			np(ns, "default-deny", networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{}, PolicyTypes: []networkingv1.PolicyType{"Ingress", "Egress"}})
		case round == 1:
			np(ns, "allow-dns", networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{},
				Egress: []networkingv1.NetworkPolicyEgressRule{{
					To:    []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("kubernetes.io/metadata.name", "kube-system"), PodSelector: sel("k8s-app", "kube-dns")}},
					Ports: []networkingv1.NetworkPolicyPort{port("UDP", intstr.FromInt32(53)), port("TCP", intstr.FromInt32(53))},
				}}})
		case round == 2:
			np(ns, "allow-monitoring", networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("kubernetes.io/metadata.name", "monitoring"), PodSelector: sel("app", "prometheus")}},
					Ports: []networkingv1.NetworkPolicyPort{port("TCP", intstr.FromString("metrics"))},
				}}})
		default:
			np(ns, fmt.Sprintf("%s-%d", a.name, round), appPolicy(r, a, nsApps, sel, port))
		}
	}
	for i := range cfg.AdminPolicies {
		c.Cluster = append(c.Cluster, adminPolicy(r, i))
	}
	if cfg.AdminPolicies > 0 {
		c.Cluster = append(c.Cluster, &v1beta1.ClusterNetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "policy.networking.k8s.io/v1beta1", Kind: "ClusterNetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: "baseline-deny-cross-tenant"},
			Spec: v1beta1.ClusterNetworkPolicySpec{Tier: v1beta1.BaselineTier, Priority: 0,
				Subject: v1beta1.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{}},
				Ingress: []v1beta1.ClusterNetworkPolicyIngressRule{{Name: "deny-other-env", Action: v1beta1.ClusterNetworkPolicyRuleActionDeny,
					From: []v1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpIn, Values: []string{"dev"}}}}}}}},
			},
		})
	}
	return c
}

// appPolicy writes one of several shapes of per-app policy.
func appPolicy(r *rand.Rand, a app, nsApps []app, sel func(...string) *metav1.LabelSelector,
	port func(corev1.Protocol, intstr.IntOrString) networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicySpec {
	from := nsApps[r.IntN(len(nsApps))]
	target := *sel("app", a.name)
	httpPort := intstr.FromInt32(8080)
	if a.named {
		httpPort = intstr.FromString("http")
	}
	switch r.IntN(8) {
	case 0, 1: // same-namespace app to app
		return networkingv1.NetworkPolicySpec{PodSelector: target, Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From:  []networkingv1.NetworkPolicyPeer{{PodSelector: sel("app", from.name)}, {PodSelector: sel("tier", "frontend")}},
			Ports: []networkingv1.NetworkPolicyPort{port("TCP", httpPort)},
		}}}
	case 2: // cross-namespace by labels, with expressions
		return networkingv1.NetworkPolicySpec{PodSelector: target, Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": teams[r.IntN(len(teams))]},
					MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"dev"}}}},
				PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"frontend", "backend"}}}},
			}},
			Ports: []networkingv1.NetworkPolicyPort{port("TCP", httpPort), port("TCP", intstr.FromInt32(8443))},
		}}}
	case 3: // egress to partners by ipBlock
		p := netip.MustParsePrefix(partners[r.IntN(len(partners))])
		end := int32(9000 + r.IntN(100))
		pp := port("TCP", intstr.FromInt32(8000))
		pp.EndPort = &end
		return networkingv1.NetworkPolicySpec{PodSelector: target, PolicyTypes: []networkingv1.PolicyType{"Egress"}, Egress: []networkingv1.NetworkPolicyEgressRule{{
			To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: p.String()}}},
			Ports: []networkingv1.NetworkPolicyPort{port("TCP", intstr.FromInt32(443)), pp},
		}}}
	case 4: // internet egress except private ranges
		return networkingv1.NetworkPolicySpec{PodSelector: target, PolicyTypes: []networkingv1.PolicyType{"Egress"}, Egress: []networkingv1.NetworkPolicyEgressRule{{
			To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}}}},
		}}}
	case 5: // egress to a named app in the namespace
		return networkingv1.NetworkPolicySpec{PodSelector: target, PolicyTypes: []networkingv1.PolicyType{"Egress"}, Egress: []networkingv1.NetworkPolicyEgressRule{{
			To:    []networkingv1.NetworkPolicyPeer{{PodSelector: sel("app", from.name)}},
			Ports: []networkingv1.NetworkPolicyPort{port("TCP", intstr.FromString("http")), port("TCP", intstr.FromString("sql")), port("SCTP", intstr.FromString("sip"))},
		}}}
	case 6: // db reachable from backends on sql
		return networkingv1.NetworkPolicySpec{PodSelector: *sel("tier", "db"), Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From:  []networkingv1.NetworkPolicyPeer{{PodSelector: sel("tier", "backend")}},
			Ports: []networkingv1.NetworkPolicyPort{port("TCP", intstr.FromString("sql"))},
		}}}
	}
	// ingress from a load-balancer range and UDP
	return networkingv1.NetworkPolicySpec{PodSelector: target, Ingress: []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/16", Except: []string{"10.0.0.0/24"}}}},
		Ports: []networkingv1.NetworkPolicyPort{port("TCP", httpPort), port("UDP", intstr.FromInt32(5353))},
	}}}
}

// adminPolicy writes one Admin-tier ClusterNetworkPolicy.
func adminPolicy(r *rand.Rand, i int) *v1beta1.ClusterNetworkPolicy {
	tenant := fmt.Sprintf("t%d", i%7)
	cnp := &v1beta1.ClusterNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy.networking.k8s.io/v1beta1", Kind: "ClusterNetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("admin-%03d", i)},
		Spec: v1beta1.ClusterNetworkPolicySpec{Tier: v1beta1.AdminTier, Priority: int32(i % 1000),
			Subject: v1beta1.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"tenant": tenant}}}},
	}
	same := &metav1.LabelSelector{MatchLabels: map[string]string{"tenant": tenant}}
	other := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tenant", Operator: metav1.LabelSelectorOpNotIn, Values: []string{tenant}}, {Key: "tenant", Operator: metav1.LabelSelectorOpExists}}}
	tcp := func(p int32) v1beta1.ClusterNetworkPolicyProtocol {
		return v1beta1.ClusterNetworkPolicyProtocol{TCP: &v1beta1.ClusterNetworkPolicyProtocolTCP{DestinationPort: &v1beta1.Port{Number: p}}}
	}
	switch r.IntN(3) {
	case 0:
		cnp.Spec.Ingress = []v1beta1.ClusterNetworkPolicyIngressRule{
			{Name: "allow-monitoring", Action: v1beta1.ClusterNetworkPolicyRuleActionAccept, From: []v1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring"}}}}, Protocols: []v1beta1.ClusterNetworkPolicyProtocol{tcp(9100)}},
			{Name: "pass-same-tenant", Action: v1beta1.ClusterNetworkPolicyRuleActionPass, From: []v1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: same}}},
			{Name: "deny-other-tenants", Action: v1beta1.ClusterNetworkPolicyRuleActionDeny, From: []v1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: other}}},
		}
	case 1:
		cnp.Spec.Egress = []v1beta1.ClusterNetworkPolicyEgressRule{
			{Name: "allow-dns", Action: v1beta1.ClusterNetworkPolicyRuleActionAccept, To: []v1beta1.ClusterNetworkPolicyEgressPeer{{Pods: &v1beta1.NamespacedPod{NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}, PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}}}}}},
			{Name: "deny-metadata", Action: v1beta1.ClusterNetworkPolicyRuleActionDeny, To: []v1beta1.ClusterNetworkPolicyEgressPeer{{Networks: []v1beta1.CIDR{"169.254.169.254/32"}}}},
			{Name: "deny-other-tenants", Action: v1beta1.ClusterNetworkPolicyRuleActionDeny, To: []v1beta1.ClusterNetworkPolicyEgressPeer{{Namespaces: other}}},
		}
	default:
		cnp.Spec.Ingress = []v1beta1.ClusterNetworkPolicyIngressRule{
			{Name: "deny-dev", Action: v1beta1.ClusterNetworkPolicyRuleActionDeny, From: []v1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "dev"}}}}, Protocols: []v1beta1.ClusterNetworkPolicyProtocol{tcp(5432)}},
		}
	}
	return cnp
}
