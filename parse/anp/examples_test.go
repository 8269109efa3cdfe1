package anp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/model"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const exampleDir = "../../examples/multi-tenant"

// exampleDoc is one YAML document of the example manifests.
type exampleDoc struct {
	file string
	line int // 1-based line where the document starts
	text string
	meta metav1.TypeMeta
}

// exampleDocs splits every example manifest into its documents.
func exampleDocs(tb testing.TB) []exampleDoc {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(exampleDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no manifests in %s: %v", exampleDir, err)
	}
	var docs []exampleDoc
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		start, lines := 1, []string(nil)
		flush := func() {
			text := strings.Join(lines, "\n") + "\n"
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(text), &tm); err != nil {
				tb.Fatalf("%s:%d: %v", f, start, err)
			}
			if tm.Kind != "" {
				docs = append(docs, exampleDoc{file: filepath.Base(f), line: start, text: text, meta: tm})
			}
		}
		for i, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			if strings.TrimRight(l, " ") == "---" {
				flush()
				start, lines = i+2, nil
				continue
			}
			lines = append(lines, l)
		}
		flush()
	}
	return docs
}

// TestMultiTenantExample checks that every document of the example
// decodes strictly into its API type and that every cluster policy
// converts without a single problem. The converted policies are kept in
// a golden file, so a change to the example's meaning shows as a diff.
func TestMultiTenantExample(t *testing.T) {
	var golden strings.Builder
	var policies []*model.Policy
	kinds := map[string]int{}
	for _, d := range exampleDocs(t) {
		where := fmt.Sprintf("%s:%d: %s", d.file, d.line, d.meta.Kind)
		kinds[d.meta.Kind]++
		var obj any
		switch d.meta.Kind {
		case "Namespace":
			obj = new(corev1.Namespace)
		case "Deployment":
			obj = new(appsv1.Deployment)
		case "NetworkPolicy":
			obj = new(networkingv1.NetworkPolicy)
		case "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy":
			pol, probs, err := convertWith(strict, []byte(d.text), model.Source{File: d.file, Line: d.line})
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			for _, p := range probs {
				t.Errorf("%s", p.Error())
			}
			if pol != nil {
				policies = append(policies, pol)
				fmt.Fprintf(&golden, "# %s:%d\n%s\n", d.file, d.line, dump(pol))
			}
			continue
		default:
			t.Errorf("%s: unexpected kind in the example", where)
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(d.text), obj); err != nil {
			t.Errorf("%s: %v", where, err)
		}
	}
	if kinds["ClusterNetworkPolicy"] < 8 || kinds["NetworkPolicy"] == 0 || kinds["Namespace"] == 0 || kinds["Deployment"] == 0 {
		t.Errorf("example is missing documents: %v", kinds)
	}

	// Two policies of one tier with the same priority that could match the
	// same connection make the outcome implementation-defined; the example
	// avoids the question by giving every policy its own priority.
	seen := map[string]string{}
	for _, p := range policies {
		key := fmt.Sprintf("%s/%d", p.Tier, p.Priority)
		if other, dup := seen[key]; dup {
			t.Errorf("%s and %s share tier and priority %s", other, p.Name, key)
		}
		seen[key] = p.Name
	}
	testutil.Golden(t, "multi-tenant.golden", []byte(golden.String()))
}
