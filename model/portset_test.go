package model

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPortSetUnion(t *testing.T) {
	tests := []struct {
		name string
		a, b PortSet
		want string
	}{
		{"empty", PortSet{}, PortSet{}, ""},
		{"disjoint", SinglePort(80), SinglePort(443), "80,443"},
		{"adjacent merge", PortsOf(PortRange{1, 10}), PortsOf(PortRange{11, 20}), "1-20"},
		{"overlap", PortsOf(PortRange{1, 10}), PortsOf(PortRange{5, 20}), "1-20"},
		{"full", AllPorts(), SinglePort(80), "1-65535"},
		{"unordered input", PortsOf(PortRange{100, 200}, PortRange{1, 5}, PortRange{3, 50}), PortSet{}, "1-50,100-200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Union(tt.b).String(); got != tt.want {
				t.Errorf("Union = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPortSetSubtract(t *testing.T) {
	tests := []struct {
		name string
		a, b PortSet
		want string
	}{
		{"hole", AllPorts(), SinglePort(80), "1-79,81-65535"},
		{"edges", PortsOf(PortRange{10, 20}), PortsOf(PortRange{10, 10}, PortRange{20, 20}), "11-19"},
		{"all gone", SinglePort(5), AllPorts(), ""},
		{"multi", PortsOf(PortRange{1, 100}, PortRange{200, 300}), PortsOf(PortRange{50, 250}), "1-49,251-300"},
		{"max port", AllPorts(), SinglePort(65535), "1-65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Subtract(tt.b).String(); got != tt.want {
				t.Errorf("Subtract = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPortSetOracle checks random set algebra against a bitmap over a small
// universe, plus the edges of the port range.
func TestPortSetOracle(t *testing.T) {
	const universe = 70
	ports := func(r *rand.Rand) (PortSet, [universe + 1]bool) {
		var bm [universe + 1]bool
		var rs []PortRange
		for range r.IntN(5) {
			a := uint16(1 + r.IntN(universe))
			b := a + uint16(r.IntN(10))
			if b > universe {
				b = universe
			}
			rs = append(rs, PortRange{a, b})
			for p := a; p <= b; p++ {
				bm[p] = true
			}
		}
		return PortsOf(rs...), bm
	}
	iters := 20000
	if testing.Short() {
		iters = 2000
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range iters {
		a, abm := ports(r)
		b, bbm := ports(r)
		ops := []struct {
			name string
			got  PortSet
			f    func(x, y bool) bool
		}{
			{"union", a.Union(b), func(x, y bool) bool { return x || y }},
			{"intersect", a.Intersect(b), func(x, y bool) bool { return x && y }},
			{"subtract", a.Subtract(b), func(x, y bool) bool { return x && !y }},
		}
		for _, op := range ops {
			n := 0
			for p := 1; p <= universe; p++ {
				want := op.f(abm[p], bbm[p])
				if op.got.Contains(uint16(p)) != want {
					t.Fatalf("%s(%v, %v) = %v: port %d want %v", op.name, a, b, op.got, p, want)
				}
				if want {
					n++
				}
			}
			if op.got.Len() != n {
				t.Fatalf("%s(%v, %v).Len() = %d, want %d", op.name, a, b, op.got.Len(), n)
			}
			back, err := ParsePortSet(op.got.String())
			if err != nil || !back.Equal(op.got) {
				t.Fatalf("round trip of %v: %v, %v", op.got, back, err)
			}
		}
	}
}

func TestConnSetString(t *testing.T) {
	tests := []struct {
		name string
		c    ConnSet
		want string
	}{
		{"none", ConnSet{}, "none"},
		{"all", AllConns(), "all"},
		{"tcp ports", ConnsOf(TCP, PortsOf(PortRange{80, 80}, PortRange{443, 443})), "TCP 80,443"},
		{"two protocols", ConnsOf(TCP, PortsOf(PortRange{8000, 8080})).Union(ConnsOf(UDP, SinglePort(53))), "TCP 8000-8080; UDP 53"},
		{"whole protocol", ConnsOf(SCTP, AllPorts()), "SCTP"},
		{"all except", AllConns().Subtract(ConnsOf(TCP, SinglePort(22))), "all except TCP 22"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
			back, err := ParseConnSet(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equal(tt.c) {
				t.Errorf("ParseConnSet(%q) = %v", tt.want, back)
			}
		})
	}
}

func TestConnSetAlgebra(t *testing.T) {
	web := ConnsOf(TCP, PortsOf(PortRange{80, 90}))
	got := AllConns().Subtract(web).Union(web)
	if !got.IsAll() {
		t.Errorf("all - web + web = %v, want all", got)
	}
	if diff := cmp.Diff("TCP 85-90", web.Intersect(ConnsOf(TCP, PortsOf(PortRange{85, 100}))).String()); diff != "" {
		t.Error(diff)
	}
	if web.Intersect(ConnsOf(UDP, AllPorts())).IsEmpty() != true {
		t.Error("TCP and UDP intersect")
	}
}

func BenchmarkPortSetUnion(b *testing.B) {
	x := PortsOf(PortRange{1, 10}, PortRange{100, 200}, PortRange{8000, 8080})
	y := PortsOf(PortRange{5, 50}, PortRange{150, 300}, PortRange{9000, 9000})
	b.ReportAllocs()
	for b.Loop() {
		_ = x.Union(y)
	}
}
