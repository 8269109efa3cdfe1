package audit

import (
	"github.com/bulkhead/bulkhead/audit"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

// unmodelledKinds are the kinds the checks read that parse/manifest does
// not model, with whether they are namespaced. Secrets are deliberately
// absent: the audit never reads them.
var unmodelledKinds = map[string]bool{
	"Service":            true,
	"ServiceAccount":     true,
	"ConfigMap":          true,
	"RoleBinding":        true,
	"ClusterRoleBinding": false,
	"PeerAuthentication": true,
}

// unmodelled returns the loader's objects of the kinds above, with
// namespaced ones without namespace placed in defaultNS as the API server
// would.
func unmodelled(objs []manifest.Unstructured, defaultNS string) []audit.Object {
	var out []audit.Object
	for _, o := range objs {
		namespaced, ok := unmodelledKinds[o.Obj.GetKind()]
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
