package anp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/model"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/network-policy-api/apis/v1alpha2"
	"sigs.k8s.io/yaml"
)

// addSeeds adds the seed documents under testdata/seeds whose names start
// with prefix, and the cluster policies of the multi-tenant example.
func addSeeds(f *testing.F, prefix string) {
	paths, err := filepath.Glob(filepath.Join("testdata", "seeds", prefix+"*.yaml"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds %s*.yaml: %v", prefix, err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, d := range exampleDocs(f) {
		f.Add([]byte(d.text))
	}
}

func FuzzFromClusterNetworkPolicy(f *testing.F) {
	addSeeds(f, "cnp")
	f.Add([]byte(cnpEgress("v1alpha2", "action: Accept\nto:\n- networks: [10.0.0.0/24]\nprotocols:\n- destinationNamedPort: http\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tm metav1.TypeMeta
		if yaml.Unmarshal(data, &tm) != nil {
			return
		}
		k := cnpV1beta1Kind
		if tm.APIVersion == v1alpha2.GroupVersion.String() {
			k = cnpV1alpha2Kind
		}
		checkConvert(t, k, data)
	})
}

func FuzzFromAdminNetworkPolicy(f *testing.F) {
	addSeeds(f, "anp")
	addSeeds(f, "banp")
	f.Fuzz(func(t *testing.T, data []byte) {
		var tm metav1.TypeMeta
		if yaml.Unmarshal(data, &tm) != nil {
			return
		}
		k := anpKind
		if tm.Kind == "BaselineAdminNetworkPolicy" {
			k = banpKind
		}
		checkConvert(t, k, data)
	})
}

// checkConvert decodes data leniently (unknown fields are dropped, as
// the API server prunes them), converts it, checks the result's
// invariants and, for a valid policy, that encoding the object and
// converting it again gives the same IR.
func checkConvert(t *testing.T, k kind, data []byte) {
	obj := k.newObj()
	if yaml.Unmarshal(data, obj) != nil {
		return
	}
	src := model.Source{File: "fuzz.yaml", Line: 1}
	pol, probs := k.convert(obj, src)
	checkInvariants(t, pol, probs)
	if pol == nil {
		return
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	obj2 := k.newObj()
	if err := yaml.UnmarshalStrict(out, obj2); err != nil {
		t.Fatalf("decode own output: %v\n%s", err, out)
	}
	pol2, probs2 := k.convert(obj2, src)
	if diff := cmp.Diff(probsOf(probs), probsOf(probs2)); diff != "" {
		t.Errorf("problems changed on round trip (-first +second):\n%s\n%s", diff, out)
	}
	if diff := cmp.Diff(pol, pol2, irOpts); diff != "" {
		t.Errorf("policy changed on round trip (-first +second):\n%s\n%s", diff, out)
	}
	if a, b := dump(pol), dump(pol2); a != b {
		t.Errorf("canonical form changed on round trip:\n%s\n%s", a, b)
	}
}

// checkInvariants holds for every conversion, valid or not.
func checkInvariants(t *testing.T, pol *model.Policy, probs []model.Problem) {
	t.Helper()
	if (pol == nil) != hasError(probs) {
		t.Fatalf("policy returned = %t with problems %v", pol != nil, probs)
	}
	for _, p := range probs {
		if p.Field == "" || p.Msg == "" || (p.Severity != model.SeverityError && p.Severity != model.SeverityWarning) {
			t.Errorf("malformed problem %+v", p)
		}
		if !strings.HasPrefix(p.Field, "spec.") && p.Field != "metadata.name" {
			t.Errorf("problem field %q is not a path into the object", p.Field)
		}
	}
	if pol == nil {
		return
	}
	if pol.Tier != model.TierAdmin && pol.Tier != model.TierBaseline {
		t.Errorf("tier = %s", pol.Tier)
	}
	if pol.Priority < 0 || pol.Priority > maxPriority {
		t.Errorf("priority = %d", pol.Priority)
	}
	next := map[model.Direction]int{}
	for _, r := range pol.Rules {
		if r.Index != next[r.Direction] {
			t.Errorf("%s: index out of order, want %d", r.Ref(), next[r.Direction])
		}
		next[r.Direction]++
		if r.Action == model.ActionUnknown || r.AllPeers || len(r.Peers) == 0 {
			t.Errorf("%s: action %s, all peers %t, %d peers", r.Ref(), r.Action, r.AllPeers, len(r.Peers))
		}
		if r.Action == model.Pass && pol.Kind == "BaselineAdminNetworkPolicy" {
			t.Errorf("%s: Pass in a BaselineAdminNetworkPolicy", r.Ref())
		}
		for _, p := range r.Peers {
			switch p.Kind {
			case model.PeerPods:
			case model.PeerNetworks, model.PeerNodes, model.PeerDomains:
				if r.Direction != model.Egress {
					t.Errorf("%s: %s peer in ingress", r.Ref(), p.Kind)
				}
				if r.HasNamedPorts() {
					t.Errorf("%s: named port with a %s peer", r.Ref(), p.Kind)
				}
			default:
				t.Errorf("%s: peer kind %s", r.Ref(), p.Kind)
			}
			if p.Kind == model.PeerNetworks && p.IPs.IsEmpty() {
				t.Errorf("%s: empty networks peer", r.Ref())
			}
		}
		for _, ps := range r.Ports {
			if ps.Name == "" && (ps.Protocol == model.ProtocolUnknown || ps.Ports.IsEmpty()) {
				t.Errorf("%s: port spec %+v matches nothing", r.Ref(), ps)
			}
		}
	}
	if pol.IngressIsolation != (next[model.Ingress] > 0) || pol.EgressIsolation != (next[model.Egress] > 0) {
		t.Errorf("isolation ingress=%t egress=%t with %v rules", pol.IngressIsolation, pol.EgressIsolation, next)
	}
}

// TestSeeds converts the seed documents: the ones named *invalid* must
// be rejected, the others accepted without problems.
func TestSeeds(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "seeds", "*.yaml"))
	if len(paths) == 0 {
		t.Fatal("no seeds")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			pol, probs := convertDoc(t, string(data))
			checkInvariants(t, pol, probs)
			if invalid := strings.Contains(p, "invalid"); invalid != hasError(probs) {
				t.Errorf("invalid = %t but problems: %v", invalid, probs)
			}
			if !strings.Contains(p, "invalid") && len(probs) > 0 {
				t.Errorf("problems in a valid seed: %v", probs)
			}
		})
	}
}
