package audit

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// exposedAdmin is BH-PLT-007.
var exposedAdmin = Check{
	ID:       "BH-PLT-007",
	Category: Platform,
	Severity: High,
	Title:    "Dashboard or API server exposed through a LoadBalancer or NodePort",
	Rationale: "A LoadBalancer or NodePort Service publishes its pods on every node's address or on a cloud " +
		"load balancer. Publishing the Kubernetes Dashboard or the API server this way puts the cluster's " +
		"control surface in front of the internet's scanners (Tesla's 2018 cryptojacking started at an open " +
		"dashboard).",
	Remediation: "Make the Service ClusterIP and reach the dashboard through kubectl port-forward or an " +
		"authenticating proxy; expose the API server only through the provider's private endpoint or with " +
		"loadBalancerSourceRanges limited to your networks.",
	References: []string{"https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, svc := range c.other["Service"] {
			typ := nestedString(svc.Unstructured, "spec", "type")
			if typ != "LoadBalancer" && typ != "NodePort" {
				continue
			}
			sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
			what := ""
			switch {
			case svc.Source.Namespace == "default" && svc.GetName() == "kubernetes":
				what = "the API server"
			case strings.Contains(svc.GetName(), "kubernetes-dashboard"):
				what = "the Kubernetes Dashboard"
			}
			for _, ep := range c.snap.Endpoints {
				if what != "" {
					break
				}
				if ep.Namespace != svc.Source.Namespace || !labelsMatch(sel, ep.Labels) {
					continue
				}
				if ep.Labels["component"] == "kube-apiserver" {
					what = "the API server (" + ep.ID() + ")"
				} else if isDashboard(c, ep.Labels, c.subjectOf(ep)) {
					what = "the Kubernetes Dashboard (" + ep.ID() + ")"
				}
			}
			if what == "" {
				continue
			}
			msg := fmt.Sprintf("Service %s/%s of type %s exposes %s", svc.Source.Namespace, svc.GetName(), typ, what)
			if ranges, _, _ := unstructured.NestedStringSlice(svc.Object, "spec", "loadBalancerSourceRanges"); len(ranges) > 0 && typ == "LoadBalancer" {
				msg += " to " + strings.Join(ranges, ", ")
			} else {
				msg += " to any address that reaches the nodes or the load balancer"
			}
			out = append(out, Finding{Subject: svc.subject(), Source: svc.Source, Msg: msg, Field: "spec.type"})
		}
		return out
	},
}

func isDashboard(c *Context, labels map[string]string, s Subject) bool {
	switch {
	case labels["k8s-app"] == "kubernetes-dashboard",
		strings.HasPrefix(labels["app.kubernetes.io/name"], "kubernetes-dashboard"):
		return true
	}
	if u := c.unitIndex[s]; u != nil {
		for _, ct := range u.Containers() {
			if strings.Contains(ct.Image, "kubernetesui/dashboard") {
				return true
			}
		}
	}
	return false
}
