package audit

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// meshMTLS is BH-MESH-001.
var meshMTLS = Check{
	ID:       "BH-MESH-001",
	Category: Mesh,
	Severity: High,
	Title:    "Istio mTLS not STRICT where the mesh is present",
	Rationale: "Istio's default PeerAuthentication mode is PERMISSIVE: sidecars accept plain text as well as " +
		"mutual TLS, so any pod (in or out of the mesh) can talk to mesh workloads without an identity, and " +
		"authorization policies keyed on peer identities can be bypassed. Mesh-wide STRICT (or per namespace) " +
		"makes the sidecar refuse unauthenticated peers.",
	Remediation: "Apply a PeerAuthentication with mtls.mode: STRICT in the root namespace (istio-system) and " +
		"remove PERMISSIVE or DISABLE overrides, port-level ones included.",
	References: []string{"https://istio.io/latest/docs/reference/config/security/peer_authentication/",
		"https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/"},
	Run: func(c *Context) []Finding {
		root := c.meshRoot()
		pas := c.other["PeerAuthentication"]
		// Mesh-wide and per-namespace modes (policies without selector).
		meshMode, meshPA := "", unstructuredObj{}
		nsMode := map[string]string{}
		nsPA := map[string]unstructuredObj{}
		var workloadPAs []unstructuredObj
		for _, pa := range pas {
			if !strings.HasPrefix(pa.GetAPIVersion(), "security.istio.io/") {
				continue
			}
			mode := nestedString(pa.Unstructured, "spec", "mtls", "mode")
			sel, _, _ := unstructured.NestedStringMap(pa.Object, "spec", "selector", "matchLabels")
			switch {
			case len(sel) > 0:
				workloadPAs = append(workloadPAs, pa)
			case pa.Source.Namespace == root:
				meshMode, meshPA = mode, pa
			default:
				nsMode[pa.Source.Namespace], nsPA[pa.Source.Namespace] = mode, pa
			}
		}
		meshNS := meshNamespaces(c)
		present := len(meshNS) > 0 || len(pas) > 0
		if !present {
			return nil
		}
		effective := func(ns string) (string, string) {
			if m := nsMode[ns]; m != "" && m != "UNSET" {
				return m, "PeerAuthentication " + ns + "/" + nsPA[ns].GetName()
			}
			if meshMode != "" && meshMode != "UNSET" {
				return meshMode, "the mesh-wide PeerAuthentication " + root + "/" + meshPA.GetName()
			}
			return "PERMISSIVE", "Istio's default (no PeerAuthentication applies)"
		}
		var out []Finding
		for _, ns := range meshNS {
			mode, why := effective(ns)
			if mode == "STRICT" {
				continue
			}
			f := namespaceFinding(c, ns, fmt.Sprintf("mesh namespace %s accepts plain-text traffic: mTLS mode %s from %s", ns, mode, why), "", "")
			if pa, ok := nsPA[ns]; ok && nsMode[ns] != "" && nsMode[ns] != "UNSET" {
				f.Source, f.Field = pa.Source, "spec.mtls.mode"
			}
			out = append(out, f)
		}
		for _, pa := range workloadPAs {
			var weak []string
			if m := nestedString(pa.Unstructured, "spec", "mtls", "mode"); m == "PERMISSIVE" || m == "DISABLE" {
				weak = append(weak, "mode "+m)
			}
			ports, _, _ := unstructured.NestedMap(pa.Object, "spec", "portLevelMtls")
			var keys []string
			for p := range ports {
				keys = append(keys, p)
			}
			sort.Strings(keys)
			for _, p := range keys {
				pm, _ := ports[p].(map[string]any)
				if m, _ := pm["mode"].(string); m == "PERMISSIVE" || m == "DISABLE" {
					weak = append(weak, "port "+p+" "+m)
				}
			}
			if len(weak) == 0 {
				continue
			}
			out = append(out, Finding{Subject: pa.subject(), Source: pa.Source, Field: "spec",
				Msg: "PeerAuthentication " + pa.Source.Namespace + "/" + pa.GetName() + " weakens mTLS for the workloads it selects: " + strings.Join(weak, ", ")})
		}
		return out
	},
}

// meshNamespaces returns the namespaces in the mesh: labelled for sidecar
// injection (istio-injection=enabled or istio.io/rev) or holding pods
// with an istio-proxy container.
func meshNamespaces(c *Context) []string {
	set := map[string]bool{}
	for _, n := range c.snap.Namespaces {
		if n.Labels["istio-injection"] == "enabled" || n.Labels["istio.io/rev"] != "" || n.Labels["istio.io/dataplane-mode"] == "ambient" {
			set[n.Name] = true
		}
	}
	for _, u := range c.Units {
		for _, ct := range u.Containers() {
			if ct.Name == "istio-proxy" {
				set[u.Subject.Namespace] = true
			}
		}
		if u.PodMeta.Annotations["sidecar.istio.io/inject"] == "true" || u.PodMeta.Labels["sidecar.istio.io/inject"] == "true" {
			set[u.Subject.Namespace] = true
		}
	}
	delete(set, c.meshRoot())
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}
