package agent_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	cliagent "github.com/bulkhead/bulkhead/internal/cli/agent"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
)

const deployDir = "../../../deploy"

func readDeploy(t *testing.T, name string, into any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestDeployLeastPrivilege checks the shipped manifests: the ClusterRole
// only reads, and only what the agent enforces; the DaemonSet runs on the
// host network with CAP_NET_ADMIN as its only capability, takes its node
// name from the downward API, keeps metrics on loopback, and passes flags
// the agent accepts; the kustomization lists every file.
func TestDeployLeastPrivilege(t *testing.T) {
	var role rbacv1.ClusterRole
	readDeploy(t, "clusterrole.yaml", &role)
	want := map[string][]string{
		"":                         {"namespaces", "nodes", "pods"},
		"networking.k8s.io":        {"networkpolicies"},
		"policy.networking.k8s.io": {"adminnetworkpolicies", "baselineadminnetworkpolicies", "clusternetworkpolicies"},
	}
	got := map[string][]string{}
	for _, r := range role.Rules {
		if v := slices.Sorted(slices.Values(r.Verbs)); !slices.Equal(v, []string{"get", "list", "watch"}) {
			t.Errorf("rule %v: verbs %v, want get, list, watch only", r.Resources, r.Verbs)
		}
		for _, g := range r.APIGroups {
			got[g] = append(got[g], r.Resources...)
		}
	}
	for g, rs := range got {
		slices.Sort(rs)
		if !slices.Equal(rs, want[g]) {
			t.Errorf("API group %q: resources %v, want %v", g, rs, want[g])
		}
	}
	if len(got) != len(want) {
		t.Errorf("API groups %v, want %v", got, want)
	}

	var binding rbacv1.ClusterRoleBinding
	readDeploy(t, "clusterrolebinding.yaml", &binding)
	var sa corev1.ServiceAccount
	readDeploy(t, "serviceaccount.yaml", &sa)
	if binding.RoleRef.Name != role.Name || len(binding.Subjects) != 1 || binding.Subjects[0].Name != sa.Name || binding.Subjects[0].Namespace != sa.Namespace {
		t.Errorf("binding %+v does not bind role %s to %s/%s", binding, role.Name, sa.Namespace, sa.Name)
	}

	var ds appsv1.DaemonSet
	readDeploy(t, "daemonset.yaml", &ds)
	spec := ds.Spec.Template.Spec
	if args := spec.Containers[0].Args; !slices.Contains(args, "--live") {
		t.Errorf("DaemonSet args %v: the agent must watch the API server (--live)", args)
	}
	if !spec.HostNetwork || spec.ServiceAccountName != sa.Name {
		t.Errorf("DaemonSet: hostNetwork %v, serviceAccount %q", spec.HostNetwork, spec.ServiceAccountName)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("DaemonSet: %d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Add, []corev1.Capability{"NET_ADMIN"}) ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || sc.Privileged == nil || *sc.Privileged ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("DaemonSet: security context %+v, want NET_ADMIN only, unprivileged, no escalation, read-only root", sc)
	}
	env := false
	for _, e := range c.Env {
		if e.Name == "NODE_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName" {
			env = true
		}
	}
	if !env {
		t.Error("DaemonSet: NODE_NAME does not come from spec.nodeName")
	}
	if len(c.Args) == 0 || c.Args[0] != "agent" {
		t.Fatalf("DaemonSet: args %v, want the agent command", c.Args)
	}
	cmd := cliagent.NewCommand(cmdutil.IOStreams{}, slog.New(slog.DiscardHandler))
	if err := cmd.ParseFlags(c.Args[1:]); err != nil {
		t.Errorf("DaemonSet: the agent rejects its args %v: %v", c.Args, err)
	}
	if addr, _ := cmd.Flags().GetString("metrics-address"); !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("DaemonSet: metrics on %q, want loopback", addr)
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Host != "127.0.0.1" || p.HTTPGet.Path != "/healthz" {
		t.Errorf("DaemonSet: readiness probe %+v, want /healthz on loopback", p)
	}

	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Namespace  string   `json:"namespace"`
		Resources  []string `json:"resources"`
		Images     []any    `json:"images"`
	}
	readDeploy(t, "kustomization.yaml", &k)
	files, _ := filepath.Glob(filepath.Join(deployDir, "*.yaml"))
	var names []string
	for _, f := range files {
		if n := filepath.Base(f); n != "kustomization.yaml" {
			names = append(names, n)
		}
	}
	if slices.Sort(k.Resources); !slices.Equal(k.Resources, names) {
		t.Errorf("kustomization resources %v, want every manifest %v", k.Resources, names)
	}
}
