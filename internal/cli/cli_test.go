package cli_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/cli/clitest"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/internal/testutil"
)

const shop = "../../examples/shop"

// TestGolden runs commands on the bundled examples and compares their
// output with testdata/*.golden (go test ./internal/cli -update rewrites
// them; review the diff).
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"analyze.txt", []string{"analyze", shop}},
		{"analyze.json", []string{"analyze", shop, "-o", "json"}},
		{"analyze.csv", []string{"analyze", shop, "-o", "csv"}},
		{"analyze.md", []string{"analyze", shop, "-o", "md"}},
		{"analyze.dot", []string{"analyze", shop, "-o", "dot"}},
		{"analyze-explain.txt", []string{"analyze", shop, "--explain", "-n", "shop-data"}},
		{"analyze-focus.txt", []string{"analyze", shop, "--focus", "shop-backend/payments"}},
		{"explain-mistake.txt", []string{"explain", shop, "--from", "shop-backend/recommendations", "--to", "shop-data/postgres", "--port", "5432/TCP"}},
		{"explain-denied.json", []string{"explain", shop, "--from", "shop-frontend/storefront", "--to", "shop-data/redis", "--port", "6379/TCP", "-o", "json"}},
		{"explain-ip.txt", []string{"explain", shop, "--from", "shop-backend/payments", "--to", "203.0.113.7", "--port", "443/TCP"}},
		{"matrix.txt", []string{"matrix", shop, "--port", "8080/TCP", "--port", "53/UDP"}},
		{"matrix.json", []string{"matrix", shop, "--port", "5432/TCP", "-n", "shop-data"}},
		{"multi-tenant.txt", []string{"analyze", "../../examples/multi-tenant"}},
		{"multi-tenant-explain.txt", []string{"explain", "../../examples/multi-tenant", "--from", "acme-prod/web", "--to", "acme-prod/api", "--port", "8080/TCP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := clitest.Run(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			testutil.Golden(t, tt.name+".golden", []byte(out))
		})
	}
}

func TestAnalyzeStdinMatchesFiles(t *testing.T) {
	var all []byte
	for _, f := range []string{"namespaces.yaml", "workloads.yaml", "policies.yaml"} {
		b, err := os.ReadFile(filepath.Join(shop, f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(append(all, "\n---\n"...), b...)
	}
	fromStdin, _, code := clitest.Run(t, string(all), "analyze", "-", "-o", "csv")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	fromDir, _, _ := clitest.Run(t, "", "analyze", shop, "-o", "csv")
	if fromStdin != fromDir {
		t.Errorf("stdin and directory give different results:\n%s\nvs\n%s", fromStdin, fromDir)
	}
}

func TestMatrixJSONShape(t *testing.T) {
	out, _, code := clitest.Run(t, "", "matrix", shop, "--port", "80/TCP", "--port", "53/UDP")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	_ = out
	out, _, _ = clitest.Run(t, "", "matrix", shop, "--port", "80/TCP", "--port", "53/UDP", "-o", "json")
	var m map[string]map[string]map[string]bool
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("matrix -o json is not {port: {src: {dst: bool}}}: %v", err)
	}
	if len(m) != 2 || len(m["80/TCP"]) != 12 || len(m["53/UDP"]["shop-backend/cart[Deployment]"]) != 12 {
		t.Errorf("unexpected shape: %d ports, %d rows", len(m), len(m["80/TCP"]))
	}
	if !m["53/UDP"]["shop-backend/cart[Deployment]"]["kube-system/coredns[Deployment]"] {
		t.Error("cart cannot resolve DNS")
	}
	if !m["80/TCP"]["shop-data/redis[StatefulSet]"]["shop-data/redis[StatefulSet]"] {
		t.Error("an endpoint cannot reach itself")
	}
}

func TestExplainJSONAllowed(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want bool
	}{
		{[]string{"--from", "shop-backend/checkout", "--to", "shop-backend/payments", "--port", "8443/TCP"}, true},
		{[]string{"--from", "shop-backend/checkout", "--to", "shop-backend/payments", "--port", "8080/TCP"}, false},
		{[]string{"--from", "shop-backend/cart[Deployment]", "--to", "shop-data/redis", "--port", "6379/TCP"}, true},
		{[]string{"--from", "shop-backend/catalog", "--to", "shop-data/redis", "--port", "6379/TCP"}, false},
	} {
		out, errOut, code := clitest.Run(t, "", append([]string{"explain", shop, "-o", "json"}, tt.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errOut)
		}
		var d struct{ Allowed bool }
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		if d.Allowed != tt.want {
			t.Errorf("%v: allowed = %v, want %v", tt.args, d.Allowed, tt.want)
		}
	}
}

func TestInvalidInput(t *testing.T) {
	dir := t.TempDir()
	bad := `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: ns}
spec:
  podSelector: {}
  ingress:
  - ports:
    - {port: http, endPort: 90}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: good, namespace: ns}
spec:
  podSelector: {}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
spec: {containers: [{name: c, image: x}]}
`
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := clitest.Run(t, "", "analyze", path)
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if out != "" {
		t.Errorf("wrote a result despite invalid input:\n%s", out)
	}
	for _, want := range []string{"bad.yaml:1", "networkpolicy ns/bad", "spec.ingress[0].ports[0].endPort"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not name %q:\n%s", want, errOut)
		}
	}
	out, errOut, code = clitest.Run(t, "", "analyze", path, "--ignore-invalid")
	if code != 0 {
		t.Fatalf("--ignore-invalid: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "warning") || !strings.Contains(out, "ns/p") {
		t.Errorf("--ignore-invalid: want a warning and the valid objects analyzed; stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Setenv("KUBECONFIG", "") // with no PATH, a KUBECONFIG would choose a cluster
	for _, args := range [][]string{
		{"analyze"},
		{"analyze", shop, "-o", "yaml"},
		{"analyze", shop, "--no-such-flag"},
		{"explain", shop, "--from", "shop-backend/nope", "--to", "shop-data/redis"},
		{"explain", shop, "--from", "shop-backend/cart"},
		{"matrix", shop, "--port", "80/ICMP"},
		{"analyze", "/no/such/path"},
	} {
		_, errOut, code := clitest.Run(t, "", args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr: %s)", args, code, errOut)
		}
		if !strings.Contains(errOut, "error") {
			t.Errorf("%v: no error on stderr", args)
		}
	}
}

func TestExitErrorUnwraps(t *testing.T) {
	err := cmdutil.Invalidf("x")
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != 2 {
		t.Fatal("Invalidf does not make an exit-2 error")
	}
}
