package audit

// noDigest is BH-IMG-003.
var noDigest = Check{
	ID:       "BH-IMG-003",
	Category: Images,
	Severity: Low,
	Title:    "Image not pinned by digest",
	Rationale: "A tag is a pointer the registry can move: whoever can push (or compromise the registry) " +
		"changes what runs without touching the manifest. A digest names exactly one image.",
	Remediation: "Reference images as name:tag@sha256:<digest> and let a bot update the digests.",
	References:  []string{"https://kubernetes.io/docs/concepts/containers/images/#image-names"},
	Run: func(c *Context) []Finding {
		return eachImage(c, func(u *Unit, ct ContainerRef, ref imageRef) (Finding, bool) {
			if ref.digest != "" {
				return Finding{}, false
			}
			return u.containerFinding(ct, "container "+ct.Name+" runs "+ct.Image+" by tag, not by digest", "image="+ref.name(), ct.Path+".image"), true
		})
	},
}
