package audit

import "fmt"

// largeImage is BH-IMG-004.
var largeImage = Check{
	ID:       "BH-IMG-004",
	Category: Images,
	Severity: Low,
	Title:    "Large image",
	Rationale: "Image size tracks what an attacker finds inside: shells, package managers, compilers and " +
		"network tools for the next step, and more packages with vulnerabilities to patch. Sizes come from the " +
		"nodes' status.images; without Node objects this check has nothing to look at.",
	Remediation: "Build from a minimal or distroless base, use multi-stage builds, and leave tools out.",
	References:  []string{"https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/node-v1/#NodeStatus"},
	Run: func(c *Context) []Finding {
		sizes := map[string]int64{}
		for _, n := range c.nodes {
			for _, img := range n.Status.Images {
				for _, name := range img.Names {
					sizes[name] = max(sizes[name], img.SizeBytes)
					ref := parseImage(name)
					if ref.tag != "" && ref.digest == "" {
						k := ref.name() + ":" + ref.tag
						sizes[k] = max(sizes[k], img.SizeBytes)
					}
					if ref.digest != "" {
						k := ref.name() + "@" + ref.digest
						sizes[k] = max(sizes[k], img.SizeBytes)
					}
				}
			}
		}
		if len(sizes) == 0 {
			return nil
		}
		limit := c.largeImageBytes()
		var out []Finding
		for _, u := range c.Units {
			for _, ct := range u.Containers() {
				ref := parseImage(ct.Image)
				size := sizes[ct.Image]
				if ref.digest != "" {
					size = max(size, sizes[ref.name()+"@"+ref.digest])
				} else {
					tag := ref.tag
					if tag == "" {
						tag = "latest"
					}
					size = max(size, sizes[ref.name()+":"+tag])
				}
				if size > limit {
					out = append(out, u.containerFinding(ct, fmt.Sprintf("container %s runs %s, %s on the nodes (limit %s)", ct.Name, ct.Image, humanBytes(size), humanBytes(limit)),
						"image="+ref.name(), ct.Path+".image"))
				}
			}
		}
		return out
	},
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}
