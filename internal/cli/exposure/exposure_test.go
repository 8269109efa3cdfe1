package exposure_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/cli/clitest"
	"github.com/bulkhead/bulkhead/internal/testutil"
)

const shop = "../../../examples/shop"

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"exposure.txt", []string{"exposure", shop}},
		{"exposure.json", []string{"exposure", shop, "-n", "shop-data,shop-frontend", "-o", "json"}},
		{"exposure.md", []string{"exposure", shop, "-o", "md"}},
		{"exposure-internet.txt", []string{"exposure", shop, "--only", "internet"}},
		{"exposure-unprotected.txt", []string{"exposure", shop, "--only", "unprotected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := clitest.Run(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			testutil.Golden(t, tt.name+".golden", []byte(out))
		})
	}
}

// TestShopFacts checks what the shop's policies say, independently of the
// golden files.
func TestShopFacts(t *testing.T) {
	out, _, code := clitest.Run(t, "", "exposure", shop, "-o", "json")
	if code != 0 {
		t.Fatal(code)
	}
	var doc struct {
		Endpoints []struct {
			Endpoint struct{ ID string }
			Ingress  struct {
				Level         string
				Unprotected   bool
				AllNamespaces bool
				Internet      []struct{ Endpoint string }
				Namespaces    []struct {
					Namespace    string
					Peers, Total int
				}
			}
			Egress struct {
				Level       string
				Unprotected bool
				Internet    []struct{ Endpoint string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	by := map[string]int{}
	for i, e := range doc.Endpoints {
		by[e.Endpoint.ID] = i
	}
	sf := doc.Endpoints[by["shop-frontend/storefront[Deployment]"]]
	if sf.Ingress.Level != "internet" || !sf.Ingress.AllNamespaces || len(sf.Ingress.Internet) != 2 {
		t.Errorf("storefront ingress: %+v; want open to the internet and every namespace (its rule has no from)", sf.Ingress)
	}
	pg := doc.Endpoints[by["shop-data/postgres[StatefulSet]"]]
	if pg.Ingress.Level != "other namespaces" || len(pg.Ingress.Namespaces) != 1 || pg.Ingress.Namespaces[0].Namespace != "shop-backend" ||
		pg.Ingress.Namespaces[0].Peers != 6 || pg.Ingress.Namespaces[0].Total != 6 {
		t.Errorf("postgres ingress: %+v; want all 6 shop-backend workloads (the OR mistake)", pg.Ingress)
	}
	pay := doc.Endpoints[by["shop-backend/payments[Deployment]"]]
	if pay.Egress.Level != "internet" || len(pay.Egress.Internet) != 1 || pay.Egress.Internet[0].Endpoint != "203.0.113.0/25" {
		t.Errorf("payments egress: %+v; want only 203.0.113.0/25", pay.Egress)
	}
	dns := doc.Endpoints[by["kube-system/coredns[Deployment]"]]
	if !dns.Ingress.Unprotected || !dns.Egress.Unprotected {
		t.Errorf("coredns: no policy selects it, yet it is protected: %+v", dns)
	}
	if pg.Ingress.Unprotected || pay.Egress.Unprotected {
		t.Error("a selected endpoint counts as unprotected")
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"exposure"},
		{"exposure", shop, "--only", "everything"},
		{"exposure", shop, "-o", "csv"},
	} {
		_, errOut, code := clitest.Run(t, "", args...)
		if code != 2 || !strings.Contains(errOut, "error") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and an error", args, code, errOut)
		}
	}
}
