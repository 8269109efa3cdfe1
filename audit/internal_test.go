package audit

import (
	"sort"
	"testing"

	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/google/go-cmp/cmp"
)

func TestParseImage(t *testing.T) {
	tests := []struct {
		in   string
		want imageRef
	}{
		{"nginx", imageRef{registry: "docker.io", path: "library/nginx"}},
		{"nginx:1.27", imageRef{registry: "docker.io", path: "library/nginx", tag: "1.27"}},
		{"acme/web:latest", imageRef{registry: "docker.io", path: "acme/web", tag: "latest"}},
		{"index.docker.io/library/nginx", imageRef{registry: "docker.io", path: "library/nginx"}},
		{"registry.k8s.io/pause:3.10@sha256:abc", imageRef{registry: "registry.k8s.io", path: "pause", tag: "3.10", digest: "sha256:abc"}},
		{"localhost:5000/tools/x", imageRef{registry: "localhost:5000", path: "tools/x"}},
		{"localhost/x:1", imageRef{registry: "localhost", path: "x", tag: "1"}},
		{"ghcr.io/acme/a/b@sha256:1", imageRef{registry: "ghcr.io", path: "acme/a/b", digest: "sha256:1"}},
		{"host:5000/x", imageRef{registry: "host:5000", path: "x"}},
	}
	for _, tt := range tests {
		if got := parseImage(tt.in); got != tt.want {
			t.Errorf("parseImage(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestImageAllowedBy(t *testing.T) {
	allowed := []string{"registry.k8s.io", "docker.io/library", "ghcr.io/acme", "host:5000/"}
	tests := map[string]bool{
		"nginx":                         true,
		"docker.io/library/nginx:1":     true,
		"library/nginx":                 true,
		"acme/nginx":                    false,
		"registry.k8s.io/pause":         true,
		"registry.k8s.io.evil.net/x":    false,
		"ghcr.io/acme/web":              true,
		"ghcr.io/acmecorp/web":          false,
		"ghcr.io/acme":                  true,
		"host:5000/anything/goes:1":     true,
		"quay.io/prometheus/prometheus": false,
	}
	for img, want := range tests {
		if got := parseImage(img).allowedBy(allowed); got != want {
			t.Errorf("%s allowed = %v, want %v", img, got, want)
		}
	}
}

func TestFlagValue(t *testing.T) {
	tests := []struct {
		args  []string
		name  string
		want  string
		found bool
	}{
		{[]string{"kube-apiserver", "--anonymous-auth=false"}, "--anonymous-auth", "false", true},
		{[]string{"kube-apiserver", "--anonymous-auth", "false"}, "--anonymous-auth", "false", true},
		{[]string{"kube-apiserver", "--anonymous-auth"}, "--anonymous-auth", "true", true},
		{[]string{"kube-apiserver", "--anonymous-auth", "--x=1"}, "--anonymous-auth", "true", true},
		{[]string{"kube-apiserver", "--anonymous-auth-extra=1"}, "--anonymous-auth", "", false},
		{[]string{"sh", "-c", "kube-apiserver --authorization-mode=RBAC --anonymous-auth=false"}, "--anonymous-auth", "false", true},
		{[]string{"x", "--a=1", "--a=2"}, "--a", "2", true},
	}
	for _, tt := range tests {
		v, ok := flagValue(tt.args, tt.name)
		if v != tt.want || ok != tt.found {
			t.Errorf("flagValue(%q, %s) = %q, %v; want %q, %v", tt.args, tt.name, v, ok, tt.want, tt.found)
		}
	}
}

func TestCalicoVersions(t *testing.T) {
	tests := []struct {
		tag           string
		anp, banp, cn Support
	}{
		{"v3.28.2", NotEnforced, NotEnforced, NotEnforced},
		{"v3.29.0", Enforced, NotEnforced, NotEnforced},
		{"v3.30.4", Enforced, Enforced, NotEnforced},
		{"v3.31.2", Enforced, Enforced, NotEnforced},
		{"v3.32.1", NotEnforced, NotEnforced, Enforced},
		{"master", SupportUnknown, SupportUnknown, SupportUnknown},
	}
	for _, tt := range tests {
		s, _ := calicoSupport(parseSemver(tt.tag))
		got := []Support{s[apiANP], s[apiBANP], s[apiClusterNetwork]}
		if diff := cmp.Diff([]Support{tt.anp, tt.banp, tt.cn}, got); diff != "" {
			t.Errorf("calico %s (-want +got):\n%s", tt.tag, diff)
		}
	}
}

// TestFingerprintStable pins the fingerprint of a known finding: changing
// the hash breaks every user's baseline.
func TestFingerprintStable(t *testing.T) {
	f := Finding{ID: "BH-WL-001", Subject: Subject{Kind: "Deployment", Namespace: "shop", Name: "web"}, Container: "app", Key: "app",
		Msg: "messages are not part of it", Field: "nor fields"}
	if got, want := Fingerprint(f), "9d58d356e9c91754"; got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
	g := f
	g.Msg, g.Source.File, g.Source.Line = "other wording", "moved.yaml", 99
	if Fingerprint(g) != Fingerprint(f) {
		t.Error("fingerprint depends on the message or the source")
	}
	g.Key = "other"
	if Fingerprint(g) == Fingerprint(f) {
		t.Error("fingerprint ignores the key")
	}
}

// TestCrossNamespacePaths: the two ways crossNamespace answers (enumerating
// connections, comparing group representatives) agree on which namespace
// pairs connect.
func TestCrossNamespacePaths(t *testing.T) {
	for _, dir := range []string{"../examples/insecure", "../examples/hardened", "../examples/shop", "../examples/multi-tenant"} {
		in := loadExample(t, dir)
		r := newReach(in.Snapshot, in.EngineOptions)
		enumerated := r.crossNamespace()
		old := maxExpand
		maxExpand = -1
		scanned := r.crossNamespace()
		maxExpand = old
		keys := func(m map[nsPair]string) []nsPair {
			var out []nsPair
			for k := range m {
				out = append(out, k)
			}
			sort.Slice(out, func(i, j int) bool { return out[i].src+out[i].dst < out[j].src+out[j].dst })
			return out
		}
		if diff := cmp.Diff(keys(enumerated), keys(scanned), cmp.AllowUnexported(nsPair{})); diff != "" {
			t.Errorf("%s: namespace pairs differ (-enumerated +scanned):\n%s", dir, diff)
		}
		if dir == "../examples/shop" && len(enumerated) == 0 {
			t.Errorf("%s: no cross-namespace connection found", dir)
		}
	}
}

// loadExample models an example directory's typed objects.
func loadExample(t *testing.T, dir string) Input {
	t.Helper()
	res, err := manifest.Load([]string{dir}, nil, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Snapshot: res.Snapshot}
	for _, o := range res.Objects {
		in.Objects = append(in.Objects, Object{Source: o.Source, Obj: o.Obj})
	}
	return in
}
