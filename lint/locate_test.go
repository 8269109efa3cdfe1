package lint_test

import (
	"errors"
	"os"
	"testing"

	"github.com/bulkhead/bulkhead/lint"
	"github.com/bulkhead/bulkhead/model"
)

func TestLocator(t *testing.T) {
	const shop = "../examples/shop/policies.yaml"
	files := map[string][]byte{
		"objects.json": []byte(`{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
   "metadata": {"name": "p", "namespace": "a"},
   "spec": {"podSelector": {},
     "ingress": [
       {"from": [{"podSelector": {}}]}
     ]}}
]}`),
		"flow.yaml": []byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: f, namespace: a}\nspec: {podSelector: {}, ingress: [{from: [{podSelector: {}}]}]}\n"),
	}
	read := func(name string) ([]byte, error) {
		if b, ok := files[name]; ok {
			return b, nil
		}
		if name == shop {
			return os.ReadFile(name)
		}
		return nil, errors.New("no such file")
	}
	src := func(file string, line int, ns, name string) model.Source {
		return model.Source{File: file, Line: line, Kind: "NetworkPolicy", Namespace: ns, Name: name}
	}
	tests := []struct {
		name string
		src  model.Source
		path string
		want int
	}{
		{"document, peer", src(shop, 162, "shop-data", "postgres-from-orders"), "spec.ingress[0].from[1]", 170},
		{"document, key", src(shop, 162, "shop-data", "postgres-from-orders"), "spec.podSelector", 166},
		{"document, rule", src(shop, 162, "shop-data", "postgres-from-orders"), "spec.ingress[0]", 168},
		{"list item", src(shop, 27, "shop-frontend", "allow-dns"), "spec.egress[0].to[0]", 35},
		{"list item through an alias", src(shop, 40, "shop-backend", "allow-dns"), "spec.egress[0].to[0]", 35},
		{"list item, key", src(shop, 40, "shop-backend", "allow-dns"), "metadata", 42},
		{"missing index stops at the last found", src(shop, 162, "shop-data", "postgres-from-orders"), "spec.ingress[0].from[7]", 168},
		{"missing first step", src(shop, 162, "shop-data", "postgres-from-orders"), "status", 0},
		{"JSON list item", src("objects.json", 2, "a", "p"), "spec.ingress[0].from[0]", 6},
		{"flow style", src("flow.yaml", 1, "a", "f"), "spec.ingress[0].from[0]", 4},
		{"unreadable file", src("gone.yaml", 1, "a", "x"), "spec", 0},
		{"line beyond the file", src("flow.yaml", 99, "a", "f"), "spec", 0},
	}
	l := lint.NewLocator(read)
	for _, tt := range tests {
		if got := l.Line(tt.src, tt.path); got != tt.want {
			t.Errorf("%s: Line(%s, %q) = %d, want %d", tt.name, tt.src.Location(), tt.path, got, tt.want)
		}
	}
}

func FuzzLocator(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: X\nmetadata: {name: a}\nspec:\n  ingress:\n  - from: [{}]\n"), 1, "spec.ingress[0].from[0]")
	f.Add([]byte("items:\n- metadata: {name: a}\n  spec: *x\n"), 2, "spec.a[1]")
	f.Add([]byte(`{"metadata": {"name": "a"}, "spec": [1, 2]}`), 1, "spec[1][0]")
	f.Fuzz(func(t *testing.T, data []byte, line int, path string) {
		l := lint.NewLocator(func(string) ([]byte, error) { return data, nil })
		got := l.Line(model.Source{File: "f", Line: line, Name: "a"}, path)
		if got < 0 {
			t.Fatalf("Line = %d", got)
		}
	})
}
