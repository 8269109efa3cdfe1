package manifest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestUnstructuredKeepsUnmodelledKinds checks that objects of other kinds
// are kept for the audit, in YAML and JSON, in lists, and that Secrets
// never are.
func TestUnstructuredKeepsUnmodelledKinds(t *testing.T) {
	yamlIn := `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: shop}
stringData: {password: hunter2}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: app, namespace: shop}
`
	jsonIn := `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"istio-system"},"spec":{"mtls":{"mode":"PERMISSIVE"}}}`
	for _, tt := range []struct {
		name, file, data string
		want             []string
	}{
		{"yaml", "in.yaml", yamlIn, []string{"Service shop/web LoadBalancer", "ServiceAccount shop/app "}},
		{"json", "in.json", jsonIn, []string{"PeerAuthentication istio-system/default "}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := LoadBytes(tt.file, []byte(tt.data), Options{})
			var got []string
			for _, u := range res.Unstructured {
				typ, _, _ := unstructured.NestedString(u.Obj.Object, "spec", "type")
				got = append(got, u.Obj.GetKind()+" "+u.Obj.GetNamespace()+"/"+u.Obj.GetName()+" "+typ)
				if u.Source.File != tt.file || u.Source.Line == 0 {
					t.Errorf("%s: source %+v lacks file or line", u.Obj.GetName(), u.Source)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("unstructured objects (-want +got):\n%s", diff)
			}
		})
	}
}
