package labrun

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

// randomCluster returns the manifests of a small random cluster for the
// differential suite: namespaces with labels, pods (some with addresses,
// some without, one sometimes a Deployment) with named ports over TCP,
// UDP and SCTP, NetworkPolicies with every peer kind (pods, namespaces,
// both, ipBlocks with except), numeric, named and ranged (endPort) ports,
// and sometimes cluster-tier policies (ClusterNetworkPolicy v1beta1 in
// the Admin and Baseline tiers with Accept, Deny and Pass; pods,
// namespaces and networks peers; AdminNetworkPolicy v1alpha1). The same
// seed always gives the same text.
func randomCluster(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0x6c6162))
	g := &gen{r: r}
	return g.cluster()
}

// randomOptions returns the engine options a seed's cluster is judged
// with: every fourth seed has ipBlocks match external addresses only.
func randomOptions(seed uint64) eval.Options {
	return eval.Options{IPBlockExternalOnly: seed%4 == 3}
}

type gen struct {
	r   *rand.Rand
	b   strings.Builder
	nss []string
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }

func (g *gen) doc(format string, args ...any) {
	if g.b.Len() > 0 {
		g.b.WriteString("---\n")
	}
	fmt.Fprintf(&g.b, format, args...)
	if !strings.HasSuffix(g.b.String(), "\n") {
		g.b.WriteByte('\n')
	}
}

// containerPort is a port a random pod may declare. Names repeat with
// different numbers and protocols on purpose.
type containerPort struct {
	name  string
	port  int
	proto string
}

var portCatalog = []containerPort{
	{"http", 80, "TCP"},
	{"http", 8080, "TCP"},
	{"dns", 53, "UDP"},
	{"dns", 5353, "TCP"},
	{"metrics", 9100, "TCP"},
	{"sig", 3868, "SCTP"},
	{"", 5000, "UDP"},
	{"", 8443, "TCP"},
	{"stream", 9000, "UDP"},
	{"stream", 2905, "SCTP"},
}

var ipBlocks = []string{
	"{cidr: 10.1.0.0/16}",
	"{cidr: 10.1.0.0/24, except: [10.1.0.128/25]}",
	"{cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.244.1.0/24]}",
	"{cidr: 0.0.0.0/0, except: [10.0.0.0/8]}",
	"{cidr: 203.0.113.0/24, except: [203.0.113.64/26]}",
	"{cidr: 198.51.100.0/24}",
	"{cidr: 10.244.0.0/16}",
	"{cidr: 10.244.0.0/24, except: [10.244.0.4/30]}",
}

var networks = []string{
	"10.1.0.0/16", "10.244.1.0/24", "0.0.0.0/0", "203.0.113.128/25", "198.51.100.0/25", "10.0.0.0/8",
}

func (g *gen) cluster() string {
	// Namespaces.
	all := []string{"alpha", "beta", "gamma"}
	g.nss = all[:2+g.r.IntN(2)]
	for _, ns := range g.nss {
		g.doc("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: {team: %s, env: %s}}\n", ns, g.pick("red", "blue"), g.pick("prod", "dev"))
	}
	// Pods.
	n := 4 + g.r.IntN(4)
	for i := range n {
		ns := g.nss[g.r.IntN(len(g.nss))]
		if g.chance(0.08) {
			ns = "delta" // a namespace no manifest declares
		}
		labels := fmt.Sprintf("{app: %s, tier: %s}", g.pick("web", "api", "db"), g.pick("front", "back"))
		var ports []string
		var names []string
		for _, k := range g.r.Perm(len(portCatalog))[:g.r.IntN(4)] {
			p := portCatalog[k]
			if p.name != "" && slices.Contains(names, p.name) {
				continue
			}
			names = append(names, p.name)
			if p.name == "" {
				ports = append(ports, fmt.Sprintf("{containerPort: %d, protocol: %s}", p.port, p.proto))
			} else {
				ports = append(ports, fmt.Sprintf("{name: %s, containerPort: %d, protocol: %s}", p.name, p.port, p.proto))
			}
		}
		container := "{name: c, image: x}"
		if len(ports) > 0 {
			container = fmt.Sprintf("{name: c, image: x, ports: [%s]}", strings.Join(ports, ", "))
		}
		node := ""
		if g.chance(0.2) {
			node = fmt.Sprintf(", nodeName: node-%d", 1+g.r.IntN(3))
		}
		status := ""
		if g.chance(0.5) {
			status = fmt.Sprintf("status: {podIP: %s}\n", g.pick("10.1.0.", "10.1.0.1", "10.1.1.", "10.2.0.")+fmt.Sprint(10+i))
		}
		if i == 0 && g.chance(0.3) {
			g.doc("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d%d, namespace: %s}\nspec:\n  selector: {matchLabels: %s}\n  template:\n    metadata: {labels: %s}\n    spec: {containers: [%s]}\n",
				i, ns, labels, labels, container)
			continue
		}
		g.doc("apiVersion: v1\nkind: Pod\nmetadata: {name: p%d, namespace: %s, labels: %s}\nspec: {containers: [%s]%s}\n%s", i, ns, labels, container, node, status)
	}
	// NetworkPolicies.
	for i := range g.r.IntN(5) {
		g.networkPolicy(i)
	}
	// Cluster tiers.
	if g.chance(0.5) {
		for i := range 1 + g.r.IntN(2) {
			g.clusterPolicy(i)
		}
	}
	if g.chance(0.2) {
		g.adminNetworkPolicy()
	}
	return g.b.String()
}

func (g *gen) podSelector() string {
	switch g.r.IntN(6) {
	case 0:
		return "{}"
	case 1:
		return fmt.Sprintf("{matchLabels: {app: %s}}", g.pick("web", "api", "db"))
	case 2:
		return fmt.Sprintf("{matchLabels: {tier: %s}}", g.pick("front", "back"))
	case 3:
		return fmt.Sprintf("{matchExpressions: [{key: app, operator: In, values: [%s, %s]}]}", g.pick("web", "api"), g.pick("db", "api"))
	case 4:
		return fmt.Sprintf("{matchExpressions: [{key: tier, operator: NotIn, values: [%s]}]}", g.pick("front", "back"))
	}
	return fmt.Sprintf("{matchExpressions: [{key: %s, operator: %s}]}", g.pick("app", "tier", "zone"), g.pick("Exists", "DoesNotExist"))
}

func (g *gen) nsSelector() string {
	switch g.r.IntN(4) {
	case 0:
		return "{}"
	case 1:
		return fmt.Sprintf("{matchLabels: {team: %s}}", g.pick("red", "blue"))
	case 2:
		return fmt.Sprintf("{matchLabels: {env: %s}}", g.pick("prod", "dev"))
	}
	return fmt.Sprintf("{matchLabels: {kubernetes.io/metadata.name: %s}}", g.nss[g.r.IntN(len(g.nss))])
}

func (g *gen) npPeer() string {
	switch g.r.IntN(4) {
	case 0:
		return "{podSelector: " + g.podSelector() + "}"
	case 1:
		return "{namespaceSelector: " + g.nsSelector() + "}"
	case 2:
		return "{namespaceSelector: " + g.nsSelector() + ", podSelector: " + g.podSelector() + "}"
	}
	return "{ipBlock: " + g.pick(ipBlocks...) + "}"
}

func (g *gen) npPort() string {
	switch g.r.IntN(8) {
	case 0:
		return "{port: 80}"
	case 1:
		return "{protocol: UDP, port: 53}"
	case 2:
		return "{port: http}"
	case 3:
		return fmt.Sprintf("{protocol: %s, port: %s}", g.pick("UDP", "TCP"), g.pick("dns", "stream"))
	case 4:
		return "{protocol: SCTP, port: " + g.pick("3868", "sig", "stream") + "}"
	case 5:
		return fmt.Sprintf("{port: %d, endPort: %d}", 8000+g.r.IntN(80), 8080+g.r.IntN(500))
	case 6:
		return "{protocol: " + g.pick("UDP", "SCTP", "TCP") + "}"
	}
	return fmt.Sprintf("{protocol: UDP, port: %d, endPort: %d}", 4990+g.r.IntN(10), 5000+g.r.IntN(4010))
}

func (g *gen) npRules(dir, peerKey string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %s:\n", dir)
	for range 1 + g.r.IntN(2) {
		var parts []string
		switch {
		case g.chance(0.05):
			parts = append(parts, peerKey+": []") // as if absent: every peer
		case g.chance(0.85):
			var peers []string
			for range 1 + g.r.IntN(2) {
				peers = append(peers, g.npPeer())
			}
			parts = append(parts, peerKey+": ["+strings.Join(peers, ", ")+"]")
		}
		if g.chance(0.6) {
			var ports []string
			for range 1 + g.r.IntN(2) {
				ports = append(ports, g.npPort())
			}
			parts = append(parts, "ports: ["+strings.Join(ports, ", ")+"]")
		}
		fmt.Fprintf(&b, "  - {%s}\n", strings.Join(parts, ", "))
	}
	return b.String()
}

func (g *gen) networkPolicy(i int) {
	ns := g.nss[g.r.IntN(len(g.nss))]
	var spec strings.Builder
	fmt.Fprintf(&spec, "  podSelector: %s\n", g.podSelector())
	in, eg := g.chance(0.7), g.chance(0.5)
	if !in && !eg {
		in = true
	}
	var types []string
	if in {
		types = append(types, "Ingress")
	}
	if eg {
		types = append(types, "Egress")
	}
	if !eg && g.chance(0.5) {
		// policyTypes defaults to Ingress (plus Egress with egress rules).
	} else {
		fmt.Fprintf(&spec, "  policyTypes: [%s]\n", strings.Join(types, ", "))
	}
	if in && g.chance(0.8) {
		spec.WriteString(g.npRules("ingress", "from"))
	}
	if eg && g.chance(0.8) {
		spec.WriteString(g.npRules("egress", "to"))
	}
	g.doc("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np%d, namespace: %s}\nspec:\n%s", i, ns, spec.String())
}

func (g *gen) cnpProtocols(named bool) string {
	var ps []string
	kinds := 4
	if named {
		kinds = 5
	}
	for range 1 + g.r.IntN(2) {
		switch g.r.IntN(kinds) {
		case 0:
			ps = append(ps, fmt.Sprintf("{tcp: {destinationPort: {number: %s}}}", g.pick("80", "8080", "8443")))
		case 1:
			ps = append(ps, fmt.Sprintf("{udp: {destinationPort: {range: {start: %d, end: %d}}}}", 50+g.r.IntN(4), 53+g.r.IntN(6000)))
		case 2:
			ps = append(ps, "{sctp: {destinationPort: {number: "+g.pick("3868", "2905")+"}}}")
		case 3:
			ps = append(ps, "{"+g.pick("tcp", "udp", "sctp")+": {destinationPort: {range: {start: 1, end: 65535}}}}")
		default:
			ps = append(ps, "{destinationNamedPort: "+g.pick("http", "dns", "stream", "sig")+"}")
		}
	}
	return "[" + strings.Join(ps, ", ") + "]"
}

func (g *gen) cnpPeer(egress bool) string {
	n := 2
	if egress {
		n = 3
	}
	switch g.r.IntN(n) {
	case 0:
		return "{namespaces: " + g.nsSelector() + "}"
	case 1:
		return "{pods: {namespaceSelector: " + g.nsSelector() + ", podSelector: " + g.podSelector() + "}}"
	}
	return "{networks: [" + g.pick(networks...) + "]}"
}

func (g *gen) clusterPolicy(i int) {
	tier := g.pick("Admin", "Baseline")
	subject := "{namespaces: " + g.nsSelector() + "}"
	if g.chance(0.4) {
		subject = "{pods: {namespaceSelector: " + g.nsSelector() + ", podSelector: " + g.podSelector() + "}}"
	}
	var spec strings.Builder
	fmt.Fprintf(&spec, "  tier: %s\n  priority: %d\n  subject: %s\n", tier, g.r.IntN(4)*10, subject)
	for _, dir := range []string{"ingress", "egress"} {
		if !g.chance(0.6) {
			continue
		}
		key := "from"
		if dir == "egress" {
			key = "to"
		}
		fmt.Fprintf(&spec, "  %s:\n", dir)
		for k := range 1 + g.r.IntN(3) {
			var peers []string
			for range 1 + g.r.IntN(2) {
				peers = append(peers, g.cnpPeer(dir == "egress"))
			}
			rule := fmt.Sprintf("{name: r%d, action: %s, %s: [%s]", k, g.pick("Accept", "Deny", "Pass"), key, strings.Join(peers, ", "))
			if g.chance(0.5) {
				// Networks peers have no named ports.
				named := !slices.ContainsFunc(peers, func(p string) bool { return strings.HasPrefix(p, "{networks") })
				rule += ", protocols: " + g.cnpProtocols(named)
			}
			fmt.Fprintf(&spec, "  - %s}\n", rule)
		}
	}
	g.doc("apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: cnp%d}\nspec:\n%s", i, spec.String())
}

func (g *gen) adminNetworkPolicy() {
	var spec strings.Builder
	fmt.Fprintf(&spec, "  priority: %d\n  subject: {namespaces: %s}\n", 5+g.r.IntN(20), g.nsSelector())
	fmt.Fprintf(&spec, "  ingress:\n  - {name: a, action: %s, from: [{namespaces: %s}], ports: [%s]}\n",
		g.pick("Allow", "Deny", "Pass"), g.nsSelector(),
		g.pick("{portNumber: {protocol: TCP, port: 80}}", "{namedPort: http}", "{portRange: {protocol: UDP, start: 50, end: 60}}"))
	fmt.Fprintf(&spec, "  egress:\n  - {name: b, action: %s, to: [{networks: [%s]}]}\n", g.pick("Allow", "Deny", "Pass"), g.pick(networks...))
	g.doc("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: anp}\nspec:\n%s", spec.String())
}

// TestRandomClusterLoads checks that the generator writes clusters the
// manifest loader takes without a problem, and deterministically.
func TestRandomClusterLoads(t *testing.T) {
	kinds := map[string]bool{}
	for seed := range uint64(200) {
		text := randomCluster(seed)
		if again := randomCluster(seed); again != text {
			t.Fatalf("seed %d: two runs differ", seed)
		}
		res := manifest.LoadBytes(fmt.Sprintf("seed-%d.yaml", seed), []byte(text), manifest.Options{})
		for _, p := range res.Snapshot.Problems {
			t.Fatalf("seed %d: %v\n%s", seed, p.Error(), text)
		}
		for _, pol := range res.Snapshot.Policies {
			kinds[pol.Kind+"/"+pol.Tier.String()] = true
		}
	}
	for _, k := range []string{"NetworkPolicy/NetworkPolicy", "ClusterNetworkPolicy/Admin", "ClusterNetworkPolicy/Baseline", "AdminNetworkPolicy/Admin"} {
		if !kinds[k] {
			t.Errorf("200 seeds never made a %s policy", k)
		}
	}
}
