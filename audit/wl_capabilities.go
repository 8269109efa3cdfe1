package audit

import (
	"sort"
	"strings"
)

// dangerousCaps are the capabilities that break out of the container's
// network or host confinement.
var dangerousCaps = map[string]string{
	"ALL":             "every capability",
	"SYS_ADMIN":       "mounts, namespaces and most of the kernel's admin interfaces",
	"NET_ADMIN":       "rewrites interfaces, routes and firewall rules, NetworkPolicy enforcement included",
	"NET_RAW":         "crafts raw packets (spoofing, ARP and DNS poisoning on the node's network)",
	"SYS_PTRACE":      "inspects and injects into other processes",
	"SYS_MODULE":      "loads kernel modules",
	"SYS_RAWIO":       "raw device and I/O port access",
	"BPF":             "loads eBPF programs",
	"PERFMON":         "kernel tracing and eBPF with CAP_BPF",
	"DAC_READ_SEARCH": "reads any file by handle (the \"shocker\" escape)",
	"SYS_BOOT":        "reboots the node",
}

func normCap(c string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
}

// capabilities is BH-WL-002.
var capabilities = Check{
	ID:       "BH-WL-002",
	Category: Workloads,
	Severity: High,
	Title:    "Dangerous capabilities added",
	Rationale: "Capabilities such as NET_ADMIN, NET_RAW, SYS_ADMIN, SYS_PTRACE and SYS_MODULE hand a container " +
		"pieces of root on the node: NET_ADMIN can flush the very rules that enforce NetworkPolicy, NET_RAW can " +
		"spoof and poison neighbours' traffic, SYS_ADMIN and SYS_MODULE are classic container escapes.",
	Remediation: "Drop ALL capabilities and add back only what the process needs (usually nothing, or " +
		"NET_BIND_SERVICE); move networking agents that need NET_ADMIN to a dedicated namespace.",
	Equivalents: Equivalents{Kubescape: "C-0046", Trivy: "KSV022", Polaris: "dangerousCapabilities", CIS: "5.2.9"},
	References:  []string{"https://man7.org/linux/man-pages/man7/capabilities.7.html"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, u := range c.Units {
			for _, ct := range u.Containers() {
				sc := ct.SecurityContext
				if sc == nil || sc.Capabilities == nil {
					continue
				}
				var bad []string
				for _, cp := range sc.Capabilities.Add {
					if n := normCap(string(cp)); dangerousCaps[n] != "" && !contains(bad, n) {
						bad = append(bad, n)
					}
				}
				sort.Strings(bad)
				for _, n := range bad {
					out = append(out, u.containerFinding(ct, "container "+ct.Name+" adds "+n+": "+dangerousCaps[n], n,
						ct.Path+".securityContext.capabilities.add"))
				}
			}
		}
		return out
	},
}
