package audit

// mutableTag is BH-IMG-002.
var mutableTag = Check{
	ID:       "BH-IMG-002",
	Category: Images,
	Severity: Medium,
	Title:    "Image uses :latest or no tag",
	Rationale: "\":latest\" (or no tag, which means latest) is whatever was pushed last: the code running in " +
		"the cluster changes without a change in Git, nobody can tell which version a node pulled, and a " +
		"compromised registry account ships straight to production at the next restart.",
	Remediation: "Use an immutable version tag, better a digest (image@sha256:...).",
	Equivalents: Equivalents{Trivy: "KSV013", Polaris: "tagNotSpecified", KubeScore: "container-image-tag"},
	References:  []string{"https://kubernetes.io/docs/concepts/containers/images/#image-names"},
	Run: func(c *Context) []Finding {
		return eachImage(c, func(u *Unit, ct ContainerRef, ref imageRef) (Finding, bool) {
			switch {
			case ref.digest != "":
				return Finding{}, false
			case ref.tag == "":
				return u.containerFinding(ct, "container "+ct.Name+" runs "+ct.Image+" without a tag (that is :latest)", "image="+ref.name(), ct.Path+".image"), true
			case ref.tag == "latest":
				return u.containerFinding(ct, "container "+ct.Name+" runs "+ct.Image, "image="+ref.name(), ct.Path+".image"), true
			}
			return Finding{}, false
		})
	},
}
