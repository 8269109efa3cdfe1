package audit

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// serviceAccountToken is BH-WL-010.
var serviceAccountToken = Check{
	ID:       "BH-WL-010",
	Category: Workloads,
	Severity: Medium,
	Title:    "Service-account token mounted in a workload that does not use the API",
	Rationale: "Kubernetes mounts a service-account token into every pod unless told not to. A workload that " +
		"never calls the API server gains nothing from it, but whoever compromises the pod gets an identity on " +
		"the API server: enough to list what the account may, and with a careless RoleBinding, to take the cluster.",
	Remediation: "Set automountServiceAccountToken: false on the pod template (or on its ServiceAccount); " +
		"workloads that do call the API get a dedicated ServiceAccount bound to the narrowest Role.",
	Equivalents: Equivalents{Kubescape: "C-0034", Trivy: "KSV036", Polaris: "automountServiceAccountToken", CIS: "5.1.6"},
	References:  []string{"https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting"},
	Run: func(c *Context) []Finding {
		type saKey struct{ ns, name string }
		saAutomount := map[saKey]*bool{}
		for _, o := range c.other["ServiceAccount"] {
			if v, found, _ := unstructured.NestedBool(o.Object, "automountServiceAccountToken"); found {
				b := v
				saAutomount[saKey{o.Source.Namespace, o.GetName()}] = &b
			}
		}
		// Which accounts the input's RBAC bindings name.
		bound := map[saKey]bool{}
		boundNS := map[string]bool{}
		allBound := false
		rbac := false
		for _, kind := range []string{"RoleBinding", "ClusterRoleBinding"} {
			for _, o := range c.other[kind] {
				rbac = true
				if ref, _, _ := unstructured.NestedString(o.Object, "roleRef", "name"); discoveryRoles[ref] {
					continue
				}
				// The API server's own bindings grant whole groups only such
				// discovery roles, whatever future versions name them.
				bootstrap := o.GetLabels()["kubernetes.io/bootstrapping"] == "rbac-defaults"
				subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
				for _, s := range subjects {
					m, ok := s.(map[string]any)
					if !ok {
						continue
					}
					kind, _ := m["kind"].(string)
					name, _ := m["name"].(string)
					ns, _ := m["namespace"].(string)
					switch {
					case kind == "ServiceAccount":
						if ns == "" {
							ns = o.Source.Namespace
						}
						bound[saKey{ns, name}] = true
					case kind == "Group" && bootstrap:
					case kind == "Group" && name == "system:serviceaccounts":
						allBound = true
					case kind == "Group" && len(name) > len("system:serviceaccounts:") && name[:len("system:serviceaccounts:")] == "system:serviceaccounts:":
						boundNS[name[len("system:serviceaccounts:"):]] = true
					}
				}
			}
		}
		var out []Finding
		for _, u := range c.Units {
			if u.Static {
				continue // the kubelet mounts no token into static pods
			}
			sa := u.Spec.ServiceAccountName
			if sa == "" {
				sa = u.Spec.DeprecatedServiceAccount
			}
			if sa == "" {
				sa = "default"
			}
			k := saKey{u.Subject.Namespace, sa}
			mounted, field := true, u.SpecPath+".automountServiceAccountToken"
			if v := u.Spec.AutomountServiceAccountToken; v != nil {
				mounted = *v
			} else if v := saAutomount[k]; v != nil {
				mounted = *v
			}
			if !mounted {
				continue
			}
			usesAPI := false
			why := ""
			if rbac {
				usesAPI = bound[k] || allBound || boundNS[k.ns]
				why = "no RoleBinding or ClusterRoleBinding in the input grants ServiceAccount " + sa + " anything"
			} else {
				usesAPI = sa != "default"
				why = "it runs as the namespace's default ServiceAccount"
			}
			if usesAPI {
				continue
			}
			out = append(out, u.finding("mounts a service-account token although it does not use the API ("+why+")", sa, field))
		}
		return out
	},
}

// discoveryRoles are the ClusterRoles every API server binds to all
// service accounts or all authenticated users (bootstrap policy): API
// discovery, self-reviews, the OIDC issuer documents. Bindings to them say
// nothing about a workload using the API, and a live cluster always has
// them, so they do not count.
var discoveryRoles = map[string]bool{
	"system:service-account-issuer-discovery": true,
	"system:cluster-trust-bundle-discovery":   true,
	"system:discovery":                        true,
	"system:basic-user":                       true,
	"system:public-info-viewer":               true,
}
