package audit

import "strings"

// imageRef is a container image reference split as the container runtimes
// read it.
type imageRef struct {
	// registry is the host ("docker.io" when the reference names none).
	registry string
	// path is the repository path without the registry
	// ("library/nginx" for "nginx").
	path   string
	tag    string
	digest string
}

// parseImage splits an image reference. The first path component is a
// registry when it has a dot or a colon or is "localhost"; otherwise the
// image is on Docker Hub, and a one-component path is in "library/".
func parseImage(image string) imageRef {
	var r imageRef
	rest := image
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		r.digest = rest[i+1:]
		rest = rest[:i]
	}
	slash := strings.LastIndexByte(rest, '/')
	if i := strings.LastIndexByte(rest, ':'); i > slash {
		r.tag = rest[i+1:]
		rest = rest[:i]
	}
	first, remainder, hasSlash := strings.Cut(rest, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.registry, r.path = first, remainder
	} else {
		r.registry, r.path = "docker.io", rest
		if !hasSlash {
			r.path = "library/" + rest
		}
	}
	if r.registry == "index.docker.io" || r.registry == "registry-1.docker.io" {
		r.registry = "docker.io"
	}
	return r
}

// name returns registry/path.
func (r imageRef) name() string { return r.registry + "/" + r.path }

// allowedBy reports whether the image comes from one of the allowed
// registries or repository prefixes. "docker.io/library" allows
// "nginx" and "docker.io/library/nginx"; "ghcr.io/acme" allows
// "ghcr.io/acme/x" but not "ghcr.io/acmecorp/x".
func (r imageRef) allowedBy(allowed []string) bool {
	name := r.name()
	for _, a := range allowed {
		a = strings.TrimSuffix(strings.TrimSpace(a), "/")
		if a == "" {
			continue
		}
		na := parseImage(a + "/x")
		prefix := strings.TrimSuffix(na.name(), "/x")
		if name == prefix || strings.HasPrefix(name, prefix+"/") {
			return true
		}
	}
	return false
}

// eachImage calls f for every container of every unit that names an
// image, with the parsed reference, and collects the findings f returns.
func eachImage(c *Context, f func(u *Unit, ct ContainerRef, ref imageRef) (Finding, bool)) []Finding {
	var out []Finding
	for _, u := range c.Units {
		for _, ct := range u.Containers() {
			if ct.Image == "" {
				continue
			}
			if fd, ok := f(u, ct, parseImage(ct.Image)); ok {
				out = append(out, fd)
			}
		}
	}
	return out
}
