package audit

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteCatalogueText lists the checks for --list-checks: ID, severity,
// category and title.
func WriteCatalogueText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tCATEGORY\tTITLE")
	for _, c := range registry {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Severity, c.Category, c.Title)
	}
	return tw.Flush()
}

// WriteCatalogueMarkdown writes docs/checks.md: every check with its
// severity, rationale, remediation and equivalents, the network-plugin
// table, the suppression syntax, the score and the JSON shape. The file is
// generated (TestChecksDoc, -update) so that it never drifts from the code.
func WriteCatalogueMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("<!-- Generated from package audit by TestChecksDoc; do not edit. Regenerate with: go test ./audit -run TestChecksDoc -update -->\n\n")
	b.WriteString("# Audit checks\n\n")
	b.WriteString("`bulkhead audit PATH...` runs the checks below over manifests (a live cluster later). ")
	b.WriteString("Every check has a stable ID that suppressions and baselines refer to. Segmentation checks ask the ")
	b.WriteString("engine what the policies actually allow, tiers included, rather than whether a policy exists.\n\n")
	b.WriteString("Equivalents name the same or a closely related check in other tools (kubescape control, Trivy ")
	b.WriteString("check, Polaris and kube-score check names) and the CIS Kubernetes Benchmark section (v1.23+ numbering); ")
	b.WriteString("a blank means none, or none we could confirm.\n\n")
	b.WriteString("| ID | Severity | Title | kubescape | Trivy | Polaris | kube-score | CIS |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range registry {
		e := c.Equivalents
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s | %s | %s | %s |\n", c.ID, strings.ToLower(c.ID), c.Severity, c.Title,
			e.Kubescape, e.Trivy, e.Polaris, e.KubeScore, e.CIS)
	}
	for _, cat := range Categories {
		name := string(cat)
		fmt.Fprintf(&b, "\n## %s\n", strings.ToUpper(name[:1])+name[1:])
		for _, c := range registry {
			if c.Category != cat {
				continue
			}
			fmt.Fprintf(&b, "\n### %s\n\n**%s** — severity %s\n\n%s\n\n**Remediation.** %s\n", c.ID, c.Title, c.Severity, c.Rationale, c.Remediation)
			if eq := c.Equivalents.list(); eq != "" {
				fmt.Fprintf(&b, "\n**Equivalents.** %s\n", eq)
			}
			if len(c.References) > 0 {
				b.WriteString("\n**References.**")
				for _, r := range c.References {
					b.WriteString(" <" + r + ">")
				}
				b.WriteString("\n")
			}
		}
	}

	b.WriteString("\n## Network plugins\n\n")
	b.WriteString("BH-PLT-001 and BH-PLT-002 recognise the network plugin from its DaemonSet and read its version from ")
	b.WriteString("the image tag. What each plugin enforces, as of late 2026 (sources below the table; each finding quotes the ones it relies on):\n\n")
	b.WriteString("| plugin | DaemonSet | NetworkPolicy | AdminNetworkPolicy / Baseline | ClusterNetworkPolicy |\n|---|---|---|---|---|\n")
	for _, row := range cniTable {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row[0], row[1], row[2], row[3], row[4])
	}
	b.WriteString("\nSources: Calico release notes v3.29.0 (projectcalico/calico#9404), #9464 (BaselineAdminNetworkPolicy), #10810 and #11144 ")
	b.WriteString("(ClusterNetworkPolicy replaces both in 3.32; kubernetes-sigs/network-policy-api#376); Cilium cilium/cilium#23380 and #47227 (ClusterNetworkPolicy in 1.20, ")
	b.WriteString("--enable-k8s-cluster-network-policy); Antrea docs/admin-network-policy.md (v1.13, feature gate) and antrea-io/antrea#8018, #8044 (ClusterNetworkPolicy in 2.7); ")
	b.WriteString("kind kubernetes-sigs/kind#842, #3612 and kubernetes/minikube#19871 (kindnet); kubernetes-sigs/kube-network-policies#199; kubeovn/kube-ovn#5921; ")
	b.WriteString("ovn-org/ovn-kubernetes#3158; aws/aws-network-policy-agent#496; the network-policy-api blog post \"ClusterNetworkPolicy or what happened to the AdminNetworkPolicy\" (2025-10-09).\n")
	b.WriteString("\n\"Opt-in\" means enforced only with a feature gate or flag; bulkhead looks for it in the DaemonSet's ")
	b.WriteString("arguments and in the plugin's ConfigMap (cilium-config, antrea-config) and reports the policies as ")
	b.WriteString("unenforced when it finds no evidence.\n")

	b.WriteString("\n## Suppressions\n\n")
	b.WriteString("Annotate the object (workload, pod template, Service, Node, PeerAuthentication) or its Namespace with `" + SuppressAnnotation + "`, one entry per line:\n\n")
	b.WriteString("```yaml\nmetadata:\n  annotations:\n    " + SuppressAnnotation + ": |\n      BH-WL-004: the CNI agent needs the host network\n      BH-IMG-003,BH-IMG-002 until=2027-01-31: digest pinning lands with the new pipeline\n```\n\n")
	b.WriteString("The reason is mandatory; an entry without one, or with an unknown ID, suppresses nothing and is reported as a note. ")
	b.WriteString("`until=YYYY-MM-DD` suppresses through that day (UTC); afterwards the findings are reported again with a note. ")
	b.WriteString("A namespace's annotation covers every finding in the namespace.\n\n")
	b.WriteString("`--baseline-write FILE` records every current finding by fingerprint; `--baseline FILE` suppresses those and reports only new ones. ")
	b.WriteString("A fingerprint is the first 16 hex digits of SHA-256 over the check ID, the subject (kind, namespace, name), the container and a check-specific key ")
	b.WriteString("(a capability, an image name, a source namespace): it survives moving manifests between files and rewording of messages.\n")

	b.WriteString("\n## Score\n\n")
	b.WriteString("Each namespace starts at 100 and loses, for every distinct check with an active finding in it, the check's weight: ")
	fmt.Fprintf(&b, "critical %d, high %d, medium %d, low %d, info %d; the score is floored at 0. ", Critical.Weight(), High.Weight(), Medium.Weight(), Low.Weight(), Info.Weight())
	b.WriteString("A namespace pays once for a weakness, however many replicas or workloads share it, so scores compare across namespaces of different sizes. ")
	b.WriteString("Cluster-scoped findings (the API server's flags are on a kube-system pod, so they count there; a Node's or a ClusterNetworkPolicy's) score in the row with an empty namespace. ")
	b.WriteString("`-n NS` (repeatable) reports the findings, suppressed findings and scores of those namespaces only, after auditing everything (a policy in one namespace decides what reaches another); cluster-scoped findings are then left out, as `kubectl -n` shows only namespaced objects.\n")

	b.WriteString("\n## Output\n\n")
	b.WriteString("`-o txt` groups findings by severity (colours on a terminal); `-o json` writes kind `AuditReport` (apiVersion `bulkhead.dev/v1`): ")
	b.WriteString("`summary` (findings per severity), `findings` and `suppressed` (id, severity, title, subject {id, kind, namespace, name}, container, message, source `file:line`, field, fingerprint; ")
	b.WriteString("suppressed ones add suppressedBy, reason, until), `scores` (namespace, score, failingChecks per severity, findings), `networkPlugins` (name, version, daemonSet, enforces per API, why), `notes`, `checks`. ")
	b.WriteString("`-o sarif` writes SARIF 2.1.0 with one rule per check (security-severity for code scanning) and suppressed findings as suppressed results; ")
	b.WriteString("`-o junit` writes one test suite per check and one failing test case per finding. ")
	b.WriteString("The exit status is 1 when an active finding is at or above `--fail-on` (default high), 2 for invalid input.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// cniTable summarises cniSpecs for the documentation.
var cniTable = [][5]string{
	{"Calico", "calico-node", "yes", "3.29–3.31 (Baseline from 3.30); removed in 3.32", "3.32+"},
	{"Canal", "canal", "yes (Calico)", "as Calico", "as Calico"},
	{"Cilium", "cilium", "yes", "no", "1.20+, opt-in (enable-k8s-cluster-network-policy)"},
	{"Antrea", "antrea-agent", "yes", "1.13+, opt-in (AdminNetworkPolicy gate)", "2.7+, opt-in (ClusterNetworkPolicy gate)"},
	{"Weave Net", "weave-net", "yes, with weave-npc", "no", "no"},
	{"flannel", "kube-flannel-ds", "no", "no", "no"},
	{"kube-router", "kube-router", "yes (unless --run-firewall=false)", "no", "no"},
	{"AWS VPC CNI", "aws-node", "with aws-network-policy-agent --enable-network-policy=true", "no", "unknown"},
	{"Azure NPM", "azure-npm", "yes", "no", "no"},
	{"OVN-Kubernetes", "ovnkube-node", "yes", "yes", "unknown"},
	{"Kube-OVN", "kube-ovn-cni", "yes", "yes", "unknown"},
	{"kube-network-policies", "kube-network-policies", "yes", "opt-in flags", "opt-in flag"},
	{"kindnet", "kindnet", "kindnetd v20240813+ (kind 0.24) / kindnet 1.3+", "unknown", "unknown"},
}
