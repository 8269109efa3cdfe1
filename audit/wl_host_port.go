package audit

import (
	"fmt"
	"strings"
)

// hostPort is BH-WL-007.
var hostPort = Check{
	ID:       "BH-WL-007",
	Category: Workloads,
	Severity: Medium,
	Title:    "Container binds a host port",
	Rationale: "A hostPort opens the pod on every address of its node, outside the Service and load-balancer " +
		"paths a platform team watches; with many CNIs the traffic to it bypasses the pod's NetworkPolicy.",
	Remediation: "Remove ports[].hostPort and expose the port through a Service.",
	Equivalents: Equivalents{Kubescape: "C-0044", Trivy: "KSV024", Polaris: "hostPortSet", CIS: "5.2.13"},
	References:  []string{"https://kubernetes.io/docs/concepts/configuration/overview/#services"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, u := range c.Units {
			if u.Spec.HostNetwork {
				continue // BH-WL-004: every port is a host port
			}
			for _, ct := range u.Containers() {
				var ports []string
				field := ""
				for i, p := range ct.Ports {
					if p.HostPort != 0 {
						proto := string(p.Protocol)
						if proto == "" {
							proto = "TCP"
						}
						ports = append(ports, fmt.Sprintf("%d/%s", p.HostPort, proto))
						if field == "" {
							field = fmt.Sprintf("%s.ports[%d].hostPort", ct.Path, i)
						}
					}
				}
				if len(ports) > 0 {
					out = append(out, u.containerFinding(ct, "container "+ct.Name+" binds host port "+strings.Join(ports, ", "),
						strings.Join(ports, ","), field))
				}
			}
		}
		return out
	},
}
