package anp

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/model"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/network-policy-api/apis/v1alpha1"
	"sigs.k8s.io/network-policy-api/apis/v1alpha2"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/yaml"
)

// irOpts compares IR values, whose selectors and sets have unexported
// fields, by what they mean and how they print.
var irOpts = cmp.Options{
	cmp.Comparer(func(a, b model.Selector) bool {
		return a.Key() == b.Key() && a.String() == b.String() && a.SelectsNone() == b.SelectsNone()
	}),
	cmp.Comparer(func(a, b model.IPSet) bool { return a.Equal(b) }),
	cmp.Comparer(func(a, b model.PortSet) bool { return a.Equal(b) }),
}

// decodeFunc decodes a YAML document with unmarshal and converts it with
// the converter its apiVersion and kind call for.
type decodeFunc func(data []byte, v any) error

func strict(data []byte, v any) error { return yaml.UnmarshalStrict(data, v) }

// convertDoc decodes doc strictly and converts it.
func convertDoc(t testing.TB, doc string) (*model.Policy, []model.Problem) {
	t.Helper()
	pol, probs, err := convertWith(strict, []byte(doc), testSource)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, doc)
	}
	return pol, probs
}

var testSource = model.Source{File: "test.yaml", Line: 1}

func convertWith(unmarshal decodeFunc, data []byte, src model.Source) (*model.Policy, []model.Problem, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(data, &tm); err != nil {
		return nil, nil, err
	}
	var k kind
	switch {
	case tm.Kind == "BaselineAdminNetworkPolicy":
		k = banpKind
	case tm.Kind == "AdminNetworkPolicy":
		k = anpKind
	case tm.Kind == "ClusterNetworkPolicy" && tm.APIVersion == v1alpha2.GroupVersion.String():
		k = cnpV1alpha2Kind
	case tm.Kind == "ClusterNetworkPolicy" && tm.APIVersion == v1beta1.GroupVersion.String():
		k = cnpV1beta1Kind
	default:
		return nil, nil, fmt.Errorf("not a cluster policy: %s %s", tm.APIVersion, tm.Kind)
	}
	obj := k.newObj()
	if err := unmarshal(data, obj); err != nil {
		return nil, nil, err
	}
	pol, probs := k.convert(obj, src)
	return pol, probs, nil
}

// kind decodes a document into one API type and converts it.
type kind struct {
	newObj  func() any
	convert func(obj any, src model.Source) (*model.Policy, []model.Problem)
}

var (
	anpKind = kind{
		func() any { return new(v1alpha1.AdminNetworkPolicy) },
		func(o any, s model.Source) (*model.Policy, []model.Problem) {
			return FromAdminNetworkPolicy(o.(*v1alpha1.AdminNetworkPolicy), s)
		},
	}
	banpKind = kind{
		func() any { return new(v1alpha1.BaselineAdminNetworkPolicy) },
		func(o any, s model.Source) (*model.Policy, []model.Problem) {
			return FromBaselineAdminNetworkPolicy(o.(*v1alpha1.BaselineAdminNetworkPolicy), s)
		},
	}
	cnpV1alpha2Kind = kind{
		func() any { return new(v1alpha2.ClusterNetworkPolicy) },
		func(o any, s model.Source) (*model.Policy, []model.Problem) {
			return FromClusterNetworkPolicyV1alpha2(o.(*v1alpha2.ClusterNetworkPolicy), s)
		},
	}
	cnpV1beta1Kind = kind{
		func() any { return new(v1beta1.ClusterNetworkPolicy) },
		func(o any, s model.Source) (*model.Policy, []model.Problem) {
			return FromClusterNetworkPolicyV1beta1(o.(*v1beta1.ClusterNetworkPolicy), s)
		},
	}
)

// Document builders: spec is YAML indented from column 0.

func anpDoc(name, spec string) string {
	return doc("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy", name, spec)
}

func banpDoc(name, spec string) string {
	return doc("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy", name, spec)
}

func cnpDoc(version, name, spec string) string {
	return doc("policy.networking.k8s.io/"+version, "ClusterNetworkPolicy", name, spec)
}

func doc(apiVersion, kind, name, spec string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %q\nspec:\n", apiVersion, kind, name)
	for _, line := range strings.Split(strings.TrimRight(spec, "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	return b.String()
}

// repeat joins n copies of item(i).
func repeat(n int, item func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(item(i))
	}
	return b.String()
}

// prob is the part of a Problem the tables check.
type prob struct {
	Field, Severity, Msg string
}

func probsOf(ps []model.Problem) []prob {
	var out []prob
	for _, p := range ps {
		out = append(out, prob{p.Field, p.Severity.String(), p.Msg})
	}
	return out
}

func hasError(ps []model.Problem) bool {
	for _, p := range ps {
		if p.Severity == model.SeverityError {
			return true
		}
	}
	return false
}

// dump writes a policy in a canonical text form, one line per fact, for
// golden files and round-trip checks.
func dump(p *model.Policy) string {
	if p == nil {
		return "<nil>\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s) tier=%s priority=%d\n", p.Kind, p.Name, p.APIVersion, p.Tier, p.Priority)
	fmt.Fprintf(&b, "  subject: %s [key ns=%q pods=%q]\n", p.Subject, p.Subject.NamespaceSelector.Key(), p.Subject.PodSelector.Key())
	fmt.Fprintf(&b, "  isolates: ingress=%t egress=%t\n", p.IngressIsolation, p.EgressIsolation)
	for _, r := range p.Rules {
		fmt.Fprintf(&b, "  %s %s all=%t\n", r.Ref(), r.Action, r.AllPeers)
		for _, pe := range r.Peers {
			fmt.Fprintf(&b, "    peer %s: %s", pe.Kind, pe.Text)
			switch pe.Kind {
			case model.PeerPods:
				fmt.Fprintf(&b, " [ns=%q pods=%q]", pe.NamespaceSelector.Key(), pe.PodSelector.Key())
			case model.PeerNetworks:
				fmt.Fprintf(&b, " [%s]", pe.IPs)
			case model.PeerNodes:
				fmt.Fprintf(&b, " [nodes=%q]", pe.NodeSelector.Key())
			case model.PeerDomains:
				fmt.Fprintf(&b, " %q", pe.Domains)
			}
			b.WriteString("\n")
		}
		for _, ps := range r.Ports {
			fmt.Fprintf(&b, "    port %s\n", ps)
		}
	}
	return b.String()
}
