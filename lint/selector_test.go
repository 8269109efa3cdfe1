package lint

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/model"
)

func TestSelectorWithin(t *testing.T) {
	tests := []struct {
		a, b   string
		within bool
	}{
		{"app=web", "", true},
		{"", "app=web", false},
		{"app=web,tier=fe", "app=web", true},
		{"app=web", "app=web,tier=fe", false},
		{"app=web", "app in (web,api)", true},
		{"app in (web,api)", "app=web", false},
		{"app=web", "app", true},
		{"app", "app=web", false},
		{"app=web", "app!=db", true},
		{"app=web", "app notin (web,db)", false},
		{"!app", "app notin (db)", true},
		{"!app", "!app", true},
		{"app notin (a,b)", "app notin (a)", true},
		{"app notin (a)", "app notin (a,b)", false},
		{"app notin (a)", "", true},
	}
	for _, tt := range tests {
		if got := (&Context{}).selectorWithin(model.MustSelector(tt.a), model.MustSelector(tt.b)); got != tt.within {
			t.Errorf("(&Context{}).selectorWithin(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.within)
		}
	}
	if !(&Context{}).selectorWithin(model.NothingSelector(), model.MustSelector("app=x")) || (&Context{}).selectorWithin(model.MustSelector("app=x"), model.NothingSelector()) {
		t.Error("the nothing selector is within every selector and contains none")
	}
}

// TestSelectorOracle checks selectorWithin and selectorsDisjoint against
// brute force over every label set of a small universe: they may miss a
// containment or a disjointness, but never claim a false one.
func TestSelectorOracle(t *testing.T) {
	keys, values := []string{"a", "b"}, []string{"1", "2", "3"}
	var sets []map[string]string
	for _, va := range append([]string{""}, values...) {
		for _, vb := range append([]string{""}, values...) {
			s := map[string]string{}
			if va != "" {
				s["a"] = va
			}
			if vb != "" {
				s["b"] = vb
			}
			sets = append(sets, s)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return values[r.IntN(len(values))] }
	random := func() model.Selector {
		var reqs []string
		for range r.IntN(3) {
			k := keys[r.IntN(len(keys))]
			switch r.IntN(6) {
			case 0:
				reqs = append(reqs, k+"="+pick())
			case 1:
				reqs = append(reqs, k+"!="+pick())
			case 2:
				reqs = append(reqs, k+" in ("+pick()+","+pick()+")")
			case 3:
				reqs = append(reqs, k+" notin ("+pick()+","+pick()+")")
			case 4:
				reqs = append(reqs, k)
			default:
				reqs = append(reqs, "!"+k)
			}
		}
		return model.MustSelector(strings.Join(reqs, ","))
	}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	found := [2]int{}
	for range n {
		x, y := random(), random()
		within, disjoint := true, true
		for _, s := range sets {
			if x.Matches(s) && !y.Matches(s) {
				within = false
			}
			if x.Matches(s) && y.Matches(s) {
				disjoint = false
			}
		}
		if (&Context{}).selectorWithin(x, y) {
			found[0]++
			if !within {
				t.Fatalf("(&Context{}).selectorWithin(%s, %s) = true, but a label set matches the first and not the second", x, y)
			}
		}
		if (&Context{}).selectorsDisjoint(x, y) {
			found[1]++
			if !disjoint {
				t.Fatalf("(&Context{}).selectorsDisjoint(%s, %s) = true, but a label set matches both", x, y)
			}
		}
	}
	if found[0] == 0 || found[1] == 0 {
		t.Errorf("the oracle never saw a positive answer (%v): the generator is too narrow", found)
	}
}

func TestPortsWithin(t *testing.T) {
	tcp := func(first, last uint16) model.PortSpec {
		return model.PortSpec{Protocol: model.TCP, Ports: model.PortsOf(model.PortRange{First: first, Last: last})}
	}
	named := func(name string) model.PortSpec { return model.PortSpec{Protocol: model.TCP, Name: name} }
	tests := []struct {
		name   string
		a, b   []model.PortSpec
		within bool
	}{
		{"all in all", nil, nil, true},
		{"some in all", []model.PortSpec{tcp(80, 80)}, nil, true},
		{"all in some", nil, []model.PortSpec{tcp(80, 80)}, false},
		{"range in range", []model.PortSpec{tcp(8000, 8100)}, []model.PortSpec{tcp(1, 9000)}, true},
		{"range across two", []model.PortSpec{tcp(80, 90)}, []model.PortSpec{tcp(80, 85), tcp(86, 90)}, true},
		{"range sticks out", []model.PortSpec{tcp(80, 91)}, []model.PortSpec{tcp(80, 90)}, false},
		{"other protocol", []model.PortSpec{{Protocol: model.UDP, Ports: model.SinglePort(53)}}, []model.PortSpec{tcp(53, 53)}, false},
		{"same name", []model.PortSpec{named("http")}, []model.PortSpec{named("http")}, true},
		{"other name", []model.PortSpec{named("http")}, []model.PortSpec{named("https")}, false},
		{"name in every TCP port", []model.PortSpec{named("http")}, []model.PortSpec{tcp(1, 65535)}, true},
		{"number not in name", []model.PortSpec{tcp(8080, 8080)}, []model.PortSpec{named("http")}, false},
	}
	for _, tt := range tests {
		if got := portsWithin(tt.a, tt.b); got != tt.within {
			t.Errorf("%s: portsWithin = %v, want %v", tt.name, got, tt.within)
		}
	}
}

func TestDirectionFromName(t *testing.T) {
	tests := []struct {
		name, src, dst string
		ok             bool
	}{
		{"web-to-api", "web", "api", true},
		{"allow-web-to-api-ingress", "web", "api", true},
		{"api-from-web", "web", "api", true},
		{"postgres-from-orders", "orders", "postgres", true},
		{"default-deny", "", "", false},
		{"to-api", "", "", false},
		{"web-to-web", "", "", false},
	}
	for _, tt := range tests {
		src, dst, ok := directionFromName(tt.name)
		if src != tt.src || dst != tt.dst || ok != tt.ok {
			t.Errorf("directionFromName(%q) = %q, %q, %v; want %q, %q, %v", tt.name, src, dst, ok, tt.src, tt.dst, tt.ok)
		}
	}
}
