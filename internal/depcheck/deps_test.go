package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

// pure are the packages that must never reach the kernel, the API server
// or other processes. Patterns are `go list` patterns.
var pure = []string{
	"github.com/bulkhead/bulkhead/model/...",
	"github.com/bulkhead/bulkhead/eval/...",
	"github.com/bulkhead/bulkhead/render/...",
	"github.com/bulkhead/bulkhead/parse/...",
	"github.com/bulkhead/bulkhead/nft/...",
	"github.com/bulkhead/bulkhead/audit/...",
	"github.com/bulkhead/bulkhead/lint/...",
	"github.com/bulkhead/bulkhead/spec/...",
	"github.com/bulkhead/bulkhead/exposure/...",
	"github.com/bulkhead/bulkhead/blast/...",
	"github.com/bulkhead/bulkhead/report/...",
	"github.com/bulkhead/bulkhead/review/...",
	"github.com/bulkhead/bulkhead/sarif/...",
	"github.com/bulkhead/bulkhead/internal/synth/...",
	"github.com/bulkhead/bulkhead/internal/typo/...",
	"github.com/bulkhead/bulkhead/internal/parallel/...",
}

// forbidden are import path prefixes pure packages must not depend on.
var forbidden = []string{
	"k8s.io/client-go",
	"os/exec",
	"golang.org/x/sys/unix",
	"github.com/vishvananda/",
	"github.com/google/nftables",
	"github.com/mdlayher/netlink",
}

func TestPurePackagesStayPure(t *testing.T) {
	for _, pattern := range pure {
		out, err := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}}{{"\t"}}{{join .Deps " "}}`, pattern).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "matched no packages") {
				continue
			}
			t.Fatalf("go list %s: %v\n%s", pattern, err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			pkg, deps, _ := strings.Cut(line, "\t")
			if pkg == "" || strings.HasPrefix(pkg, "warning:") {
				continue
			}
			for _, d := range strings.Fields(deps) {
				for _, f := range forbidden {
					if d == f || strings.HasPrefix(d, f) && (strings.HasSuffix(f, "/") || strings.HasPrefix(d, f+"/")) {
						t.Errorf("%s depends on %s; pure packages must not (see docs/architecture.md)", pkg, d)
					}
				}
			}
		}
	}
}
