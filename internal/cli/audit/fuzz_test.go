package audit

import (
	"testing"
)

// FuzzDecodeDocs: the decoder of unmodelled objects never panics and only
// returns the kinds the audit reads (never a Secret).
func FuzzDecodeDocs(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {type: NodePort}\n",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: b}\n---\nkind: List\nitems: [{kind: ConfigMap, apiVersion: v1, metadata: {name: c}}]\n",
		`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"x"}} {"kind":"Secret"}`,
		"{", "- a\n- b", "kind: PeerAuthentication\nspec: {portLevelMtls: {1: {mode: DISABLE}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, _ := decodeDocs(data)
		for _, o := range objs {
			if _, ok := unmodelledKinds[o.GetKind()]; !ok {
				t.Fatalf("decoded a %q", o.GetKind())
			}
		}
	})
}
