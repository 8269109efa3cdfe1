package netpol

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bulkhead/bulkhead/model"
	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// FuzzFromNetworkPolicy decodes arbitrary YAML into a NetworkPolicy and
// converts it. The conversion must never panic, must return either a
// policy or error problems that carry the source, and a valid policy must
// survive a YAML round trip: marshal, decode and convert again gives the
// same IR.
func FuzzFromNetworkPolicy(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(header + `spec: {ingress: [{ports: [{port: 1, endPort: 0}]}]}`))
	f.Add([]byte(header + `spec: {egress: [{to: [{ipBlock: {cidr: "::/0", except: ["::/1"]}}]}]}`))

	src := model.Source{File: "fuzz.yaml", Line: 1}
	f.Fuzz(func(t *testing.T, data []byte) {
		var np networkingv1.NetworkPolicy
		if err := yaml.Unmarshal(data, &np); err != nil {
			return
		}
		p, probs := FromNetworkPolicy(&np, src)
		if p == nil {
			if len(probs) == 0 {
				t.Fatal("no policy and no problem")
			}
			for _, pr := range probs {
				if pr.Severity != model.SeverityError || pr.Source.File != "fuzz.yaml" || pr.Msg == "" {
					t.Fatalf("problem without severity, file or message: %+v", pr)
				}
			}
			return
		}
		if len(probs) > 0 {
			t.Fatalf("a policy and problems: %v", probs)
		}

		out, err := yaml.Marshal(&np)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var np2 networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict(out, &np2); err != nil {
			t.Fatalf("decoding the marshaled policy: %v\n%s", err, out)
		}
		p2, probs := FromNetworkPolicy(&np2, src)
		if len(probs) > 0 {
			t.Fatalf("round trip made the policy invalid: %v\n%s", probs, out)
		}
		if diff := cmp.Diff(p, p2, cmpModel); diff != "" {
			t.Fatalf("round trip changed the IR (-first +second):\n%s\n%s", diff, out)
		}
	})
}
