package audit

import "strings"

// registryOf names where an image comes from for messages: the registry,
// or "docker.io/<user>" for personal Docker Hub repositories.
func registryOf(r imageRef) string {
	if r.registry == "docker.io" {
		if user, _, ok := strings.Cut(r.path, "/"); ok {
			return "docker.io/" + user
		}
	}
	return r.registry
}

// untrustedRegistry is BH-IMG-001.
var untrustedRegistry = Check{
	ID:       "BH-IMG-001",
	Category: Images,
	Severity: Medium,
	Title:    "Image from a registry not on the allow-list",
	Rationale: "An image is code that runs with the pod's network reach and credentials. Images pulled from " +
		"arbitrary registries or personal Docker Hub accounts are how backdoors and cryptominers arrive: " +
		"typosquats, hijacked accounts, abandoned tags re-pushed by someone else.",
	Remediation: "Pull only from registries you control or trust (mirror what you need) and pass them with " +
		"--allowed-registry; enforce it at admission as well.",
	Equivalents: Equivalents{Kubescape: "C-0078", Trivy: "KSV0125"},
	References:  []string{"https://kubernetes.io/docs/concepts/containers/images/"},
	Run: func(c *Context) []Finding {
		allowed := c.allowedRegistries()
		return eachImage(c, func(u *Unit, ct ContainerRef, ref imageRef) (Finding, bool) {
			if ref.allowedBy(allowed) {
				return Finding{}, false
			}
			return u.containerFinding(ct, "container "+ct.Name+" runs "+ct.Image+", and "+registryOf(ref)+" is not an allowed registry",
				"image="+ref.name(), ct.Path+".image"), true
		})
	},
}
