package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	anpv1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	cnpv1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

func TestMain(m *testing.M) { Main(m) }

var (
	cnpGVR = schema.GroupVersionResource{Group: "policy.networking.k8s.io", Version: "v1beta1", Resource: "clusternetworkpolicies"}
	anpGVR = schema.GroupVersionResource{Group: "policy.networking.k8s.io", Version: "v1alpha1", Resource: "adminnetworkpolicies"}
)

// TestAPIServerObjects round-trips every kind bulkhead reads through a real
// apiserver: typed core objects, pod status set through the status
// subresource, and the network-policy-api custom resources through the
// dynamic client.
func TestAPIServerObjects(t *testing.T) {
	env := Shared(t)
	ctx := context.Background()
	cs := env.Clientset(t)

	// The build's -X ldflags must give the server a version clients can parse.
	info, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("server version: %v", err)
	}
	if want := wantKubeVersion(t); want != "" && info.GitVersion != want {
		t.Errorf("server version = %q, want %q (versions.env)", info.GitVersion, want)
	}

	ns := env.Namespace(t, map[string]string{"team": "a"})

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "example.invalid/web:1",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
		}}},
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	env.SetPodIPs(t, ns, "web", "10.244.1.5", "fd00:10:244:1::5")
	gotPod, err := cs.CoreV1().Pods(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get pod: %v", err)
	}
	wantIPs := []corev1.PodIP{{IP: "10.244.1.5"}, {IP: "fd00:10:244:1::5"}}
	if diff := cmp.Diff(wantIPs, gotPod.Status.PodIPs); diff != "" {
		t.Errorf("pod IPs (-want +got):\n%s", diff)
	}
	if gotPod.Status.PodIP != "10.244.1.5" || gotPod.Status.Phase != corev1.PodRunning {
		t.Errorf("pod status: podIP %q phase %q, want 10.244.1.5 Running", gotPod.Status.PodIP, gotPod.Status.Phase)
	}

	tcp := corev1.ProtocolTCP
	port := intstr.FromString("http")
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow-web"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}},
			}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
	if _, err := cs.NetworkingV1().NetworkPolicies(ns).Create(ctx, np, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create networkpolicy: %v", err)
	}
	nps, err := cs.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list networkpolicies: %v", err)
	}
	if len(nps.Items) != 1 || !cmp.Equal(np.Spec, nps.Items[0].Spec) {
		t.Errorf("listed networkpolicies %+v, want one with spec %+v", nps.Items, np.Spec)
	}

	cnp := &cnpv1beta1.ClusterNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy.networking.k8s.io/v1beta1", Kind: "ClusterNetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "deny-to-" + ns},
		Spec: cnpv1beta1.ClusterNetworkPolicySpec{
			Tier:     cnpv1beta1.AdminTier,
			Priority: 10,
			Subject: cnpv1beta1.ClusterNetworkPolicySubject{
				Namespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
			},
			Ingress: []cnpv1beta1.ClusterNetworkPolicyIngressRule{{
				Name:   "deny-all",
				Action: cnpv1beta1.ClusterNetworkPolicyRuleActionDeny,
				From:   []cnpv1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}},
			}},
		},
	}
	var gotCNP cnpv1beta1.ClusterNetworkPolicy
	roundTrip(t, env, cnpGVR, cnp, &gotCNP)
	if diff := cmp.Diff(cnp.Spec, gotCNP.Spec); diff != "" {
		t.Errorf("ClusterNetworkPolicy spec (-want +got):\n%s", diff)
	}

	anp := &anpv1alpha1.AdminNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy.networking.k8s.io/v1alpha1", Kind: "AdminNetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "allow-from-" + ns},
		Spec: anpv1alpha1.AdminNetworkPolicySpec{
			Priority: 20,
			Subject: anpv1alpha1.AdminNetworkPolicySubject{
				Namespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}},
			},
			Egress: []anpv1alpha1.AdminNetworkPolicyEgressRule{{
				Name:   "pass-dns",
				Action: anpv1alpha1.AdminNetworkPolicyRuleActionPass,
				To:     []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Namespaces: &metav1.LabelSelector{}}},
				Ports:  &[]anpv1alpha1.AdminNetworkPolicyPort{{PortNumber: &anpv1alpha1.Port{Protocol: corev1.ProtocolUDP, Port: 53}}},
			}},
		},
	}
	var gotANP anpv1alpha1.AdminNetworkPolicy
	roundTrip(t, env, anpGVR, anp, &gotANP)
	if diff := cmp.Diff(anp.Spec, gotANP.Spec); diff != "" {
		t.Errorf("AdminNetworkPolicy spec (-want +got):\n%s", diff)
	}

	// Both cluster-scoped objects are listed back by the dynamic client.
	for _, tc := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{{cnpGVR, cnp.Name}, {anpGVR, anp.Name}} {
		list, err := env.Dynamic(t).Resource(tc.gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("list %s: %v", tc.gvr.Resource, err)
		}
		if !containsName(list.Items, tc.name) {
			t.Errorf("list %s: %s missing", tc.gvr.Resource, tc.name)
		}
	}
}

// roundTrip creates a typed custom resource through the dynamic client and
// reads it back into out.
func roundTrip(t *testing.T, env *Env, gvr schema.GroupVersionResource, in runtime.Object, out any) {
	t.Helper()
	ctx := context.Background()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(in)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	ri := env.Dynamic(t).Resource(gvr)
	if _, err := ri.Create(ctx, u, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s %s: %v", gvr.Resource, u.GetName(), err)
	}
	t.Cleanup(func() { deleteNow(t, ri, u) })
	got, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s %s: %v", gvr.Resource, u.GetName(), err)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(got.Object, out); err != nil {
		t.Fatalf("convert %s %s: %v", gvr.Resource, u.GetName(), err)
	}
}

func containsName(items []unstructured.Unstructured, name string) bool {
	for _, it := range items {
		if it.GetName() == name {
			return true
		}
	}
	return false
}

// TestAPIServerApply applies a multi-document manifest of namespaced and
// cluster-scoped objects, and checks that CRD validation rejects a bad one.
func TestAPIServerApply(t *testing.T) {
	env := Shared(t)
	ns := env.Namespace(t, nil)
	objs := env.Apply(t, ns, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
# An empty document is skipped.
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: baseline-`+ns+`
spec:
  tier: Baseline
  priority: 5
  subject:
    namespaces:
      matchLabels:
        kubernetes.io/metadata.name: `+ns+`
  egress:
  - name: allow-all
    action: Accept
    to:
    - networks: ["0.0.0.0/0"]
`)
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+" "+objectName(o))
	}
	want := []string{"NetworkPolicy " + ns + "/default-deny", "ClusterNetworkPolicy baseline-" + ns}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("applied objects (-want +got):\n%s", diff)
	}
	// The v1alpha2 object is served as v1beta1 too: one CRD holds both versions.
	if _, err := env.Dynamic(t).Resource(cnpGVR).Get(context.Background(), "baseline-"+ns, metav1.GetOptions{}); err != nil {
		t.Errorf("get v1alpha2 ClusterNetworkPolicy as v1beta1: %v", err)
	}

	// CRD validation, CEL rules included, runs in the test cluster.
	tests := []struct {
		name    string
		yaml    string
		wantErr string // "" when the object must be accepted
	}{
		{
			name: "priority out of range",
			yaml: `
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata:
  name: bad-priority-` + ns + `
spec:
  tier: Admin
  priority: 5000
  subject:
    namespaces: {}
`,
			wantErr: "spec.priority",
		},
		{
			name: "unmasked CIDR in ClusterNetworkPolicy",
			yaml: `
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata:
  name: unmasked-` + ns + `
spec:
  tier: Admin
  priority: 6
  subject:
    namespaces: {}
  egress:
  - action: Deny
    to:
    - networks: ["10.0.0.5/24"]
`,
			wantErr: "Invalid CIDR format",
		},
		{
			// Known gap, see hack/testenv/crdgen: the v1alpha1 CRDs keep only
			// isCIDR(self) to fit the CEL cost budget.
			name: "unmasked CIDR in AdminNetworkPolicy is accepted",
			yaml: anpDenyTo("unmasked-"+ns, 7, "10.0.0.5/24"),
		},
		{
			name:    "not a CIDR in AdminNetworkPolicy",
			yaml:    anpDenyTo("not-cidr-"+ns, 8, "10.0.0.500/24"),
			wantErr: "Invalid CIDR format",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.TryApply(t, "", tt.yaml)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("apply: %v, want success", err)
			case tt.wantErr != "" && (!apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("apply: got error %v, want Invalid containing %q", err, tt.wantErr)
			}
		})
	}
}

// anpDenyTo returns an AdminNetworkPolicy denying egress from every namespace
// to network.
func anpDenyTo(name string, priority int, network string) string {
	return fmt.Sprintf(`
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: %s
spec:
  priority: %d
  subject:
    namespaces: {}
  egress:
  - name: deny
    action: Deny
    to:
    - networks: [%q]
`, name, priority, network)
}

// TestAPIServerRBAC checks that a user from UserConfig is authenticated as
// that user and that RBAC, not some other failure, decides its access.
func TestAPIServerRBAC(t *testing.T) {
	env := Shared(t)
	ctx := context.Background()
	ns := env.Namespace(t, nil)
	alice, err := kubernetes.NewForConfig(env.UserConfig(t, "alice", "devs"))
	if err != nil {
		t.Fatal(err)
	}

	_, err = alice.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `"alice"`) {
		t.Fatalf("alice lists pods without a grant: got %v, want Forbidden for user \"alice\"", err)
	}

	admin := env.Clientset(t)
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}}},
	}
	if _, err := admin.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "devs-read-pods"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "devs"}},
	}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The authorizer sees the binding through an informer, so allow a moment.
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := poll(pctx, func() (bool, error) {
		_, err := alice.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		return err == nil, nil
	}); err != nil {
		t.Errorf("alice still cannot list pods after the group binding: %v", err)
	}
	// The grant is for pods in ns only.
	if _, err := alice.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("alice lists pods in default: got %v, want Forbidden", err)
	}
}

// TestAPIServerKubeconfig uses the kubeconfig files as a CLI would.
func TestAPIServerKubeconfig(t *testing.T) {
	env := Shared(t)
	ns := env.Namespace(t, nil)
	for _, tc := range []struct {
		name      string
		path      string
		wantError bool
	}{
		{"admin", env.Kubeconfig, false},
		{"restricted", env.UserKubeconfig(t, "bob"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := clientcmd.LoadFromFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if raw.CurrentContext != ContextName {
				t.Errorf("current context = %q, want %q", raw.CurrentContext, ContextName)
			}
			cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, ContextName, nil, nil).ClientConfig()
			if err != nil {
				t.Fatal(err)
			}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
			if tc.wantError {
				if !apierrors.IsForbidden(err) {
					t.Errorf("get namespace: got %v, want Forbidden", err)
				}
			} else if err != nil {
				t.Errorf("get namespace: %v", err)
			}
		})
	}
}

// TestAPIServerStartStop starts a second, private Env and checks that Stop
// ends both processes and removes the directory.
func TestAPIServerStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING in -short mode: starting a second apiserver takes about 5 s")
	}
	begin := time.Now()
	env := Start(t)
	t.Logf("started in %v", time.Since(begin).Round(time.Millisecond))
	if len(env.procs) != 2 {
		t.Fatalf("%d processes, want etcd and kube-apiserver", len(env.procs))
	}
	if _, err := env.Clientset(t).CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("get namespace default: %v", err)
	}
	if err := env.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range env.procs {
		if !p.exited() {
			t.Errorf("%s still running after Stop", p.name)
		}
	}
	if _, err := os.Stat(env.Dir); !errors.Is(err, os.ErrNotExist) && os.Getenv(EnvKeep) != "1" {
		t.Errorf("%s still exists after Stop (stat error %v)", env.Dir, err)
	}
}

// wantKubeVersion returns KUBE_VERSION from versions.env, or "" when the
// binaries come from BULKHEAD_TESTENV_BIN, whose version is unknown.
func wantKubeVersion(t *testing.T) string {
	t.Helper()
	if os.Getenv(EnvBinDir) != "" {
		return ""
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, versionsFile))
	if err != nil {
		t.Fatal(err)
	}
	vers, err := parseVersions(data)
	if err != nil {
		t.Fatal(err)
	}
	return vers["KUBE_VERSION"]
}

func TestParseVersions(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{
			name: "comments and blanks",
			in:   "# c\n\nKUBE_VERSION=v1.37.2\nETCD_VERSION=v3.7.3\n",
			want: map[string]string{"KUBE_VERSION": "v1.37.2", "ETCD_VERSION": "v3.7.3"},
		},
		{name: "missing etcd", in: "KUBE_VERSION=v1\n", wantErr: "ETCD_VERSION is not set"},
		{name: "quoted", in: "KUBE_VERSION=\"v1\"\nETCD_VERSION=v3\n", wantErr: "line 1"},
		{name: "no equals", in: "KUBE_VERSION v1\n", wantErr: "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVersions([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestMissingBinaries checks that a missing binary produces an error that
// tells the user how to build it.
func TestMissingBinaries(t *testing.T) {
	t.Setenv(EnvBinDir, t.TempDir())
	_, err := start(context.Background())
	var missing *missingBinariesError
	if !errors.As(err, &missing) {
		t.Fatalf("start with empty bin dir: got %v, want a missingBinariesError", err)
	}
	if len(missing.missing) != 2 || !strings.Contains(err.Error(), "hack/testenv/build.sh") {
		t.Errorf("error %q should name both binaries and hack/testenv/build.sh", err)
	}
}

// TestCRDsFromTree checks the committed CRDs hold the kinds and served
// versions the tests above rely on.
func TestCRDsFromTree(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	crds, err := readCRDs(filepath.Join(root, "hack", "testenv", "crds"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, c := range crds {
		kind, _, _ := unstructured.NestedString(c.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(c.Object, "spec", "versions")
		for _, v := range versions {
			m := v.(map[string]any)
			if m["served"] == true {
				got[kind] = append(got[kind], m["name"].(string))
			}
		}
	}
	want := map[string][]string{
		"AdminNetworkPolicy":         {"v1alpha1"},
		"BaselineAdminNetworkPolicy": {"v1alpha1"},
		"ClusterNetworkPolicy":       {"v1alpha2", "v1beta1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("served CRD versions (-want +got):\n%s", diff)
	}
}

// BenchmarkStart measures starting an Env: etcd up, apiserver /readyz, CRDs
// Established and served. Stopping is not timed.
func BenchmarkStart(b *testing.B) {
	skipIfAsked(b)
	ctx := context.Background()
	for b.Loop() {
		e, err := start(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := e.Stop(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
