package audit

import (
	"github.com/bulkhead/bulkhead/audit"
	"github.com/bulkhead/bulkhead/kube"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

// unmodelled returns the loader's objects of the kinds the checks read
// and the model leaves out (kube.PostureKind: what a cluster read gives
// too; never Secrets), with namespaced ones without namespace placed in
// defaultNS as the API server would.
func unmodelled(objs []manifest.Unstructured, defaultNS string) []audit.Object {
	var out []audit.Object
	for _, o := range objs {
		ok, namespaced := kube.PostureKind(o.Obj.GetKind())
		if !ok {
			continue
		}
		src := o.Source
		if namespaced && o.Obj.GetNamespace() == "" {
			src.Namespace = defaultNS
			o.Obj.SetNamespace(defaultNS)
		}
		out = append(out, audit.Object{Source: src, Obj: o.Obj})
	}
	return out
}
