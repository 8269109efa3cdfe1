package anp

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/model"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/network-policy-api/apis/v1alpha1"
	"sigs.k8s.io/network-policy-api/apis/v1alpha2"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// fill sets every field reachable from v to a non-zero value: pointers
// are allocated, slices and maps get two elements, strings and numbers a
// counter. It skips metav1.Time and status, which the conversion does not
// carry.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(metav1.Time{}) || v.Type() == reflect.TypeOf(metav1.ObjectMeta{}) {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).Name == "Status" || !v.Field(i).CanSet() {
				continue
			}
			fill(v.Field(i), n)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), n)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, n)
		fill(e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("s" + strings.Repeat("x", *n%7))
	case reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(int64(*n))
	case reflect.Bool:
		v.SetBool(true)
	}
}

// TestV1alpha2ToV1beta1Complete fills every field of a v1alpha2 object
// and checks that the v1beta1 copy encodes to the same JSON, so a field
// the conversion forgets fails here.
func TestV1alpha2ToV1beta1Complete(t *testing.T) {
	var in v1alpha2.ClusterNetworkPolicy
	n := 0
	fill(reflect.ValueOf(&in.Spec).Elem(), &n)
	in.Name = "complete"
	out := v1alpha2ToV1beta1(&in)
	a, err := json.Marshal(in.Spec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(a), string(b)); diff != "" {
		t.Errorf("v1beta1 copy differs (-v1alpha2 +v1beta1):\n%s", diff)
	}
	if out.Name != "complete" {
		t.Errorf("name = %q, want complete", out.Name)
	}
	// Nil and empty lists stay apart.
	in.Spec.Ingress[0].From = []v1alpha2.ClusterNetworkPolicyIngressPeer{}
	in.Spec.Egress[0].To[0].Networks = []v1alpha2.CIDR{}
	in.Spec.Egress[1].Protocols = nil
	out = v1alpha2ToV1beta1(&in)
	if f := out.Spec.Ingress[0].From; f == nil || len(f) != 0 {
		t.Errorf("empty from became %#v", f)
	}
	if nw := out.Spec.Egress[0].To[0].Networks; nw == nil || len(nw) != 0 {
		t.Errorf("empty networks became %#v", nw)
	}
	if out.Spec.Egress[1].Protocols != nil {
		t.Errorf("nil protocols became %#v", out.Spec.Egress[1].Protocols)
	}
}

func TestNilObjects(t *testing.T) {
	s := model.Source{File: "x.yaml", Line: 3}
	for name, convert := range map[string]func() (*model.Policy, []model.Problem){
		"anp":  func() (*model.Policy, []model.Problem) { return FromAdminNetworkPolicy(nil, s) },
		"banp": func() (*model.Policy, []model.Problem) { return FromBaselineAdminNetworkPolicy(nil, s) },
		"cnp v1alpha2": func() (*model.Policy, []model.Problem) {
			return FromClusterNetworkPolicyV1alpha2(nil, s)
		},
		"cnp v1beta1": func() (*model.Policy, []model.Problem) {
			return FromClusterNetworkPolicyV1beta1(nil, s)
		},
	} {
		pol, probs := convert()
		if pol != nil || len(probs) != 1 || probs[0].Severity != model.SeverityError || probs[0].Source.File != "x.yaml" {
			t.Errorf("%s: nil object gave %v, %v; want nil and one error", name, pol, probs)
		}
	}
}

// TestSource checks that problems and policies carry the caller's source,
// completed with the kind and name, without a namespace: the kinds are
// cluster-scoped and the API server ignores metadata.namespace on them.
func TestSource(t *testing.T) {
	p := &v1alpha1.AdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "ignored"}}
	p.Spec.Priority = 2000
	p.Spec.Subject.Namespaces = &metav1.LabelSelector{}
	_, probs := FromAdminNetworkPolicy(p, model.Source{File: "f.yaml", Line: 7})
	want := model.Source{File: "f.yaml", Line: 7, Kind: "AdminNetworkPolicy", Name: "x"}
	if len(probs) != 1 || probs[0].Source != want {
		t.Fatalf("problems = %v, want one with source %+v", probs, want)
	}
	if got, wantErr := probs[0].Error(), "f.yaml:7: adminnetworkpolicy x: spec.priority: must be between 0 and 1000, got 2000"; got != wantErr {
		t.Errorf("Error() = %q, want %q", got, wantErr)
	}

	c := &v1beta1.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "y", Namespace: "ignored"}}
	c.Spec.Tier = v1beta1.AdminTier
	c.Spec.Subject.Namespaces = &metav1.LabelSelector{}
	loader := model.Source{File: "g.yaml", Line: 2, Kind: "ClusterNetworkPolicy", Namespace: "ignored", Name: "y"}
	pol, probs := FromClusterNetworkPolicyV1beta1(c, loader)
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	if want := (model.Source{File: "g.yaml", Line: 2, Kind: "ClusterNetworkPolicy", Name: "y"}); pol.Source != want || pol.Namespace != "" {
		t.Errorf("policy source = %+v namespace %q, want %+v and no namespace", pol.Source, pol.Namespace, want)
	}
	if got := pol.Ref(); got != "ClusterNetworkPolicy y" {
		t.Errorf("Ref() = %q", got)
	}
}
