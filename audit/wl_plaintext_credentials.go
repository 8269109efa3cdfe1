package audit

import (
	"regexp"
	"strings"
)

var (
	credentialNameRE = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential|auth[_-]?key)`)
	notCredentialRE  = regexp.MustCompile(`(?i)(_file|_path|_dir|_url|_uri|_name|_user(name)?|_id|_ttl|_timeout|_header|_endpoint|_enabled|_length|_type|_expiry|_expiration|_issuer|_audience|_algorithm|_size|_count|_mode|_version|_prefix|_policy|_rotation|_refresh_interval)$`)
	// plainValueRE matches values that are settings, not secrets: numbers,
	// booleans, durations.
	plainValueRE      = regexp.MustCompile(`(?i)^([0-9]+(\.[0-9]+)?[smhd]?|true|false|yes|no|on|off|enabled|disabled)$`)
	privateKeyValueRE = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)
)

// plaintextCredentials is BH-WL-012.
var plaintextCredentials = Check{
	ID:       "BH-WL-012",
	Category: Workloads,
	Severity: High,
	Title:    "Credential written in plain text in the pod spec",
	Rationale: "A password, token or private key written as a literal env value is readable by anyone who can " +
		"read the workload (get on Deployments is far more widely granted than get on Secrets), sits in Git and " +
		"in every manifest dump, and cannot be rotated without a rollout. It is the credential an attacker who " +
		"reads the cluster's configuration picks up first.",
	Remediation: "Move the value into a Secret (or an external secret store) and reference it with " +
		"env[].valueFrom.secretKeyRef; rotate the exposed credential.",
	Equivalents: Equivalents{Kubescape: "C-0012", Polaris: "sensitiveContainerEnvVar"},
	References:  []string{"https://kubernetes.io/docs/concepts/security/secrets-good-practices/"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, u := range c.Units {
			for _, ct := range u.Containers() {
				for i, e := range ct.Env {
					if e.ValueFrom != nil || e.Value == "" {
						continue
					}
					looksSecret := privateKeyValueRE.MatchString(e.Value) ||
						credentialNameRE.MatchString(e.Name) && !notCredentialRE.MatchString(e.Name) &&
							!strings.HasPrefix(e.Value, "/") && !strings.HasPrefix(e.Value, "$(") && !plainValueRE.MatchString(e.Value)
					if !looksSecret {
						continue
					}
					out = append(out, u.containerFinding(ct, "container "+ct.Name+" sets "+e.Name+" to a literal value that looks like a credential (value not shown)",
						"env="+e.Name, ct.Path+".env["+itoa(i)+"].value"))
				}
			}
		}
		return out
	},
}
