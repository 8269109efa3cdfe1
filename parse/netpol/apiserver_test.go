package netpol

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/bulkhead/bulkhead/internal/kubetest"
	"github.com/bulkhead/bulkhead/model"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

// TestAPIServerAgrees checks FromNetworkPolicy against a real
// kube-apiserver (internal/kubetest): every policy of the table tests,
// and random valid and invalid ones, is created with a server-side dry
// run, and the server must accept exactly the policies FromNetworkPolicy
// accepts, and reject the others with the same fields and messages.
func TestAPIServerAgrees(t *testing.T) {
	env := kubetest.Shared(t)
	cs := env.Clientset(t)
	ns := env.Namespace(t, nil)

	var cases []*networkingv1.NetworkPolicy
	for _, tt := range semanticTests {
		cases = append(cases, decode(t, header+tt.spec))
	}
	for _, tt := range invalidTests {
		cases = append(cases, decode(t, tt.doc))
	}
	rng := rand.New(rand.NewPCG(7, 11))
	n := 400
	if testing.Short() {
		n = 50
	}
	for range n {
		cases = append(cases, randomPolicy(rng))
	}

	for i, np := range cases {
		// The server checks the namespace against the URL's; this test is
		// about the rest.
		np.Namespace = ns
		if np.Name == "" && i%2 == 0 {
			np.Name = fmt.Sprintf("p%d", i)
		}
		_, probs := FromNetworkPolicy(np, model.Source{})
		var ours []problem
		for _, p := range probs {
			ours = append(ours, problem{p.Field, p.Msg})
		}
		theirs := serverProblems(t, cs, np)
		sortProblems(ours)
		sortProblems(theirs)
		if diff := cmp.Diff(theirs, ours); diff != "" {
			t.Errorf("case %d: problems differ from the API server's (-server +ours):\n%s\npolicy: %+v", i, diff, np.Spec)
		}
	}
}

// serverProblems creates np with a dry run and returns the problems the
// server reports, as (field, message) pairs.
func serverProblems(t *testing.T, cs kubernetes.Interface, np *networkingv1.NetworkPolicy) []problem {
	t.Helper()
	_, err := cs.NetworkingV1().NetworkPolicies(np.Namespace).Create(context.Background(), np, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err == nil {
		return nil
	}
	var se *apierrors.StatusError
	if !errors.As(err, &se) || se.ErrStatus.Details == nil || !apierrors.IsInvalid(err) {
		t.Fatalf("dry-run create: %v", err)
	}
	var out []problem
	for _, c := range se.ErrStatus.Details.Causes {
		out = append(out, problem{c.Field, c.Message})
	}
	return out
}

func sortProblems(ps []problem) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Field != ps[j].Field {
			return ps[i].Field < ps[j].Field
		}
		return ps[i].Msg < ps[j].Msg
	})
}

// randomPolicy builds a policy from valid and invalid values of every
// field FromNetworkPolicy validates.
func randomPolicy(rng *rand.Rand) *networkingv1.NetworkPolicy {
	pick := func(n int) int { return rng.IntN(n) }
	selectors := []*metav1.LabelSelector{
		nil,
		{},
		{MatchLabels: map[string]string{"app": "web"}},
		{MatchLabels: map[string]string{"app": "a b"}},
		{MatchLabels: map[string]string{"-bad": "x"}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn}}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpExists, Values: []string{"x"}}}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Equals", Values: []string{"x"}}}},
	}
	sel := func() *metav1.LabelSelector {
		if s := selectors[pick(len(selectors))]; s != nil {
			return s.DeepCopy()
		}
		return nil
	}
	protocols := []string{"", "TCP", "UDP", "SCTP", "tcp", "ICMP"}
	ports := []*intstr.IntOrString{nil, ptr(intstr.FromInt32(1)), ptr(intstr.FromInt32(80)), ptr(intstr.FromInt32(65535)),
		ptr(intstr.FromInt32(0)), ptr(intstr.FromInt32(65536)), ptr(intstr.FromString("http")), ptr(intstr.FromString("HTTP")),
		ptr(intstr.FromString("80")), ptr(intstr.FromString("a--b")), ptr(intstr.FromString("web-frontend-https"))}
	endPorts := []*int32{nil, nil, ptr(int32(80)), ptr(int32(90)), ptr(int32(65535)), ptr(int32(70000)), ptr(int32(1))}
	cidrs := []string{"10.0.0.0/8", "0.0.0.0/0", "2001:db8::/32", "::/0", "10.0.0.1/8", "::ffff:10.0.0.0/104", "300.0.0.0/8",
		"", "10.0.0.0", "010.0.0.0/8", "2001:db8::1/32", "10.0.0.0/33"}
	excepts := []string{"10.1.0.0/16", "11.0.0.0/16", "10.0.0.0/8", "2001:db8:1::/48", "2001:db9::/48", "bad", "10.1.0.1/16", "0.0.0.0/0"}
	types := [][]networkingv1.PolicyType{nil, {"Ingress"}, {"Egress"}, {"Ingress", "Egress"}, {"ingress"}, {"Ingress", "Egress", "Ingress"}}

	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: []string{"", "ok", "Bad_Name"}[pick(3)]}}
	if s := sel(); s != nil {
		np.Spec.PodSelector = *s
	}
	np.Spec.PolicyTypes = types[pick(len(types))]
	rulePorts := func() []networkingv1.NetworkPolicyPort {
		var out []networkingv1.NetworkPolicyPort
		for range pick(3) {
			var p networkingv1.NetworkPolicyPort
			if proto := protocols[pick(len(protocols))]; proto != "" {
				p.Protocol = ptr(corev1.Protocol(proto))
			}
			p.Port = ports[pick(len(ports))]
			p.EndPort = endPorts[pick(len(endPorts))]
			out = append(out, p)
		}
		return out
	}
	peers := func() []networkingv1.NetworkPolicyPeer {
		var out []networkingv1.NetworkPolicyPeer
		for range pick(3) {
			var p networkingv1.NetworkPolicyPeer
			switch pick(4) {
			case 0:
				p.PodSelector = sel()
			case 1:
				p.NamespaceSelector = sel()
				p.PodSelector = sel()
			case 2:
				b := &networkingv1.IPBlock{CIDR: cidrs[pick(len(cidrs))]}
				for range pick(3) {
					b.Except = append(b.Except, excepts[pick(len(excepts))])
				}
				p.IPBlock = b
			case 3:
				p.IPBlock = &networkingv1.IPBlock{CIDR: cidrs[pick(2)]}
				p.PodSelector = sel()
			}
			out = append(out, p)
		}
		return out
	}
	for range pick(3) {
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{Ports: rulePorts(), From: peers()})
	}
	for range pick(3) {
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{Ports: rulePorts(), To: peers()})
	}
	return np
}

func ptr[T any](v T) *T { return &v }
