package spec_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/spec"
	"github.com/google/go-cmp/cmp"
)

const header = "apiVersion: bulkhead.dev/v1\nkind: ConnectivityTest\nmetadata: {name: t}\n"

// TestParseProblems checks that each mistake is reported with its line
// and field, and that the rest of the spec is still checked.
func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // "line field: message fragment"
	}{
		{"not yaml", "a: [", []string{"1 : invalid YAML"}},
		{"empty", "", []string{"1 : empty document"}},
		{"wrong kind", "apiVersion: bulkhead.dev/v2\nkind: Test\ntests: []\n", []string{
			"1 apiVersion: Unsupported value", "1 kind: Unsupported value", "1 metadata.name: Required", "3 tests: Required value"}},
		{"unknown field", header + "tests:\n- name: x\n  form: a/b\n  to: a/c\n  expect: allow\n", []string{
			`6 tests[0].form: unknown field (did you mean "from"?)`, "5 tests[0].from: Required value"}},
		{"bad expect and ports", header + "tests:\n- from: a/b\n  to: a/c\n  ports: [80/ICMP, 70000, TCP]\n  expect: permit\n", []string{
			"7 tests[0].ports[0]: ", "7 tests[0].ports[1]: ", "5 tests[0].expect: Unsupported value"}},
		{"bad selectors", header + "tests:\n- from: {namespace: Shop, labels: 'a in (('}\n  to: [{cidr: 10.0.0.0/33}, {}, {namespace: a, cidr: 10.0.0.0/8}, web]\n  expect: deny\n", []string{
			"5 tests[0].from.namespace: Invalid value", "5 tests[0].from.labels: Invalid value", "6 tests[0].to[0].cidr: Invalid value",
			"6 tests[0].to[1]: an empty selector", "6 tests[0].to[2]: cidr and external", `6 tests[0].to[3]: "web"`}},
		{"zones", header + "zones:\n  internet: [{namespace: a}]\n  Prod: [{namespace: a}]\n  dev: [{zone: x}]\ntests:\n- zone: prod\n  notReachableFrom: [dev]\n  reachableOnlyFrom: [dev]\n- zone: dev\n  from: a/b\n", []string{
			"5 zones.internet: the zone internet is built in", "6 zones.Prod: zone names", "7 zones.dev.zone: zones cannot refer",
			"11 tests[0].reachableOnlyFrom: a test has one zone rule", `9 tests[0]: unknown zone "prod"`, "12 tests[1]: a test is either"}},
		{"duplicate names", header + "tests:\n- {name: a, from: a/b, to: a/c, expect: allow}\n- {name: a, from: a/b, to: a/c, expect: deny}\n", []string{
			`6 tests[1].name: duplicate test name "a" (also tests[0])`}},
		{"two documents", header + "tests: [{from: a/b, to: a/c, expect: allow}]\n---\nkind: x\n", []string{"5 : a second YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := spec.Parse("s.yaml", []byte(tt.in))
			var got []string
			for _, p := range problems {
				if p.Source.File != "s.yaml" || p.Severity != model.SeverityError {
					t.Errorf("problem %v: want file s.yaml and severity error", p)
				}
				got = append(got, p.Error())
			}
			for _, w := range tt.want {
				line, rest, _ := strings.Cut(w, " ")
				field, frag, _ := strings.Cut(rest, ": ")
				found := false
				for _, p := range problems {
					if itoa(p.Source.Line) == line && p.Field == field && strings.Contains(p.Msg, frag) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing problem %q in:\n%s", w, strings.Join(got, "\n"))
				}
			}
			if len(problems) != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%s", len(problems), len(tt.want), strings.Join(got, "\n"))
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParseValid(t *testing.T) {
	in := header + `manifests: [../shop, /abs]
zones:
  web: [{namespace: shop, labels: {app: web}}, {namespaceLabels: "env in (prod)"}]
tests:
- from: {zone: internet}
  to: shop/web[Deployment]
  ports: [80, 8000-8080/tcp, UDP, "53/udp"]
  expect: allow-some
- name: isolated
  zone: web
  mayReachOnly: internet
- from: {external: true}
  to: {labels: {matchExpressions: [{key: app, operator: In, values: [a, b]}]}, namespaceLabels: {matchLabels: {env: prod}}}
  expect: deny
`
	s, problems := spec.Parse("s.yaml", []byte(in))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	type got struct {
		Manifests []string
		Zones     []string
		Names     []string
		Ports     []string
		Selectors []string
	}
	g := got{Manifests: s.Manifests}
	for _, z := range s.Zones {
		g.Zones = append(g.Zones, z.Name)
		for _, sel := range z.Selectors {
			g.Selectors = append(g.Selectors, sel.String())
		}
	}
	for _, tt := range s.Tests {
		g.Names = append(g.Names, tt.Name)
		g.Ports = append(g.Ports, tt.Ports.String())
		for _, sel := range append(tt.From, tt.To...) {
			g.Selectors = append(g.Selectors, sel.String())
		}
	}
	want := got{
		Manifests: []string{"../shop", "/abs"},
		Zones:     []string{"web"},
		Names:     []string{"allow-some {zone: internet} -> {workload: shop/web[Deployment]} on 80, 8000-8080/tcp, UDP, 53/udp", "isolated", "deny {external: true} -> {namespaceLabels: env=prod, labels: app in (a,b)} on any"},
		Ports:     []string{"TCP 80,8000-8080; UDP", "all", "all"},
		Selectors: []string{"{namespace: shop, labels: app=web}", "{namespaceLabels: env in (prod)}", "{zone: internet}", "{workload: shop/web[Deployment]}",
			"{external: true}", "{namespaceLabels: env=prod, labels: app in (a,b)}"},
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("parsed spec (-want +got):\n%s", diff)
	}
}

// FuzzParse checks that Parse never panics, that it returns a spec or a
// problem, and that every problem names the file and a line in it.
func FuzzParse(f *testing.F) {
	f.Add([]byte(header + "tests: [{from: a/b, to: a/c, expect: allow}]\n"))
	f.Add([]byte(header + "zones: {a: [{namespace: x}]}\ntests:\n- {zone: a, notReachableFrom: [internet], ports: [80/TCP]}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte(header + "tests:\n- from: {labels: {matchLabels: {a: b}, matchExpressions: [{key: k, operator: Exists}]}}\n  to: {cidr: ::/0}\n  expect: deny\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, problems := spec.Parse("f.yaml", data)
		lines := strings.Count(string(data), "\n") + strings.Count(string(data), "\r") + 2
		for _, p := range problems {
			if p.Source.File != "f.yaml" || p.Source.Line < 0 || p.Source.Line > lines || p.Msg == "" {
				t.Fatalf("bad problem %#v for input %q", p, data)
			}
		}
		if s == nil && len(problems) == 0 {
			t.Fatalf("no spec and no problem for %q", data)
		}
		if len(problems) == 0 {
			for _, tt := range s.Tests {
				if tt.Name == "" || (!tt.IsZoneRule() && (len(tt.From) == 0 || len(tt.To) == 0)) {
					t.Fatalf("a valid spec with an incomplete test: %+v", tt)
				}
			}
		}
	})
}
