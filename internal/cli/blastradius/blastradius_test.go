package blastradius_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/cli/clitest"
	"github.com/bulkhead/bulkhead/internal/testutil"
)

const (
	shop = "../../../examples/shop"
	// isolated is the shop with coredns, Prometheus and node-exporter
	// locked down, so that lateral movement has limits to show.
	isolated = "testdata/shop-isolated"
)

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"storefront.txt", []string{"blast-radius", shop, "--from", "shop-frontend/storefront", "--sensitive", "app in (postgres,redis)"}},
		{"storefront-isolated.txt", []string{"blast-radius", isolated, "shop", "--from", "shop-frontend/storefront", "--sensitive", "app in (postgres,redis)"}},
		{"storefront-isolated.json", []string{"blast-radius", isolated, "shop", "--from", "shop-frontend/storefront[Deployment]", "--sensitive", "app=postgres", "-o", "json"}},
		{"storefront-isolated-1hop.md", []string{"blast-radius", isolated, "shop", "--from", "shop-frontend/storefront", "--max-hops", "1", "-o", "md"}},
		{"internet-isolated.txt", []string{"blast-radius", isolated, "shop", "--from", "198.51.100.7"}},
		{"rank.txt", []string{"blast-radius", shop, "--rank"}},
		{"rank-isolated.txt", []string{"blast-radius", isolated, "shop", "--rank", "--top", "0", "--sensitive", "app in (postgres,redis)", "--rank-by", "sensitive"}},
		{"rank-isolated.json", []string{"blast-radius", isolated, "shop", "--rank", "--top", "3", "-o", "json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			for i, a := range args {
				if a == "shop" && i > 0 && args[i-1] == isolated {
					args = append(append(append([]string{}, args[:i]...), shop), args[i+1:]...)
				}
			}
			out, errOut, code := clitest.Run(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			testutil.Golden(t, tt.name+".golden", []byte(out))
		})
	}
}

// TestIsolatedFacts checks the lateral path to postgres: the storefront
// reaches a backend, whose egress and postgres's ORed ingress rule let it
// in; and the max-hops cut.
func TestIsolatedFacts(t *testing.T) {
	out, _, code := clitest.Run(t, "", "blast-radius", isolated, shop, "--from", "shop-frontend/storefront", "-o", "json", "--sensitive", "app=postgres")
	if code != 0 {
		t.Fatal(code)
	}
	var doc struct {
		Reachable, Sensitive, MaxHops int
		Targets                       []struct {
			Endpoint  struct{ ID string }
			Hops      int
			Sensitive bool
			Path      []struct{ From, To string }
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tg := range doc.Targets {
		if tg.Endpoint.ID != "shop-data/postgres[StatefulSet]" {
			continue
		}
		found = true
		if tg.Hops != 2 || !tg.Sensitive || len(tg.Path) != 2 || tg.Path[0].From != "shop-frontend/storefront[Deployment]" || tg.Path[1].To != tg.Endpoint.ID || tg.Path[0].To != tg.Path[1].From {
			t.Errorf("path to postgres: %+v", tg)
		}
	}
	if !found || doc.Sensitive != 1 {
		t.Errorf("postgres not reached, or sensitive count %d", doc.Sensitive)
	}
	one, _, _ := clitest.Run(t, "", "blast-radius", isolated, shop, "--from", "shop-frontend/storefront", "--max-hops", "1")
	if !strings.Contains(one, "stopped at --max-hops 1") || strings.Contains(one, "shop-data/postgres") {
		t.Errorf("--max-hops 1:\n%s", one)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"blast-radius", shop},
		{"blast-radius", shop, "--from", "shop-backend/nope"},
		{"blast-radius", shop, "--from", "shop-backend/cart", "--rank"},
		{"blast-radius", shop, "--rank", "--rank-by", "size"},
		{"blast-radius", shop, "--rank", "--sensitive", "a in (("},
		{"blast-radius", shop, "--rank", "-o", "csv"},
		{"blast-radius", shop, "--from", "shop-backend/cart", "--max-hops", "-1"},
	} {
		_, errOut, code := clitest.Run(t, "", args...)
		if code != 2 || !strings.Contains(errOut, "error") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and an error", args, code, errOut)
		}
	}
}
