package audit_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the audit pure: it must not reach client-go, os/exec,
// x/sys/unix or netlink, directly or through its imports.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/bulkhead/bulkhead/audit").CombinedOutput()
	if err != nil {
		t.Skipf("go list unavailable: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"k8s.io/client-go", "os/exec", "golang.org/x/sys/unix", "github.com/vishvananda/"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") || strings.HasPrefix(dep, banned) && strings.HasSuffix(banned, "/") {
				t.Errorf("package audit depends on %s", dep)
			}
		}
	}
}
