package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/model"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsyaml "sigs.k8s.io/yaml"
)

func emitJSON(t *testing.T, doc string) (string, *emitError) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	e := newEmitter(0, len(doc))
	e.value(&n, 0)
	return string(e.data), e.err
}

// TestEmitterMatchesKubectl checks the YAML to JSON conversion against
// sigs.k8s.io/yaml, which kubectl uses: the same JSON value for every
// document, YAML 1.1 booleans included.
func TestEmitterMatchesKubectl(t *testing.T) {
	docs := []string{
		`a: 1`,
		`{a: [1, 2.5, -3, "x", 'y', null, ~, true, false]}`,
		`labels: {enabled: yes, off: "no", n: N, on: On, quoted: "yes"}`,
		"k: |\n  two\n  lines\nf: >-\n  folded\n  text\n",
		"s: \"tab\\tnew\\nline \\u00e9 \\\" \\\\\"\n",
		"empty:\nlist: []\nmap: {}\n",
		"base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n",
		"m:\n  <<: [{a: 1}, {a: 2, b: 2}]\n  c: 3\n",
		"hex: 0x1F\nneg: -12\nbig: 123456789012\nexp: 1e3\nfloat: 0.5\n",
		"time: 2026-01-02T03:04:05Z\ndate: 2026-01-02\n",
		"1: one\ntrue: yes\n",
		"unicode: \"日本\"\nctrl: \"\\x01\"\n",
		"- a\n- b\n",
		"text",
	}
	for _, doc := range docs {
		t.Run(doc, func(t *testing.T) {
			got, eerr := emitJSON(t, doc)
			if eerr != nil {
				t.Fatalf("emitter: %v", eerr.msg)
			}
			want, err := sigsyaml.YAMLToJSON([]byte(doc))
			if err != nil {
				t.Fatalf("sigs.k8s.io/yaml: %v", err)
			}
			var g, w any
			if err := json.Unmarshal([]byte(got), &g); err != nil {
				t.Fatalf("emitter wrote invalid JSON %s: %v", got, err)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("JSON differs from kubectl's (-kubectl +emitter):\n%s", diff)
			}
		})
	}
}

func TestEmitterErrors(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	for i := 'b'; i <= 'k'; i++ {
		bomb += fmt.Sprintf("%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	tests := []struct{ name, doc, want string }{
		{"alias bomb", bomb, "the document expands to too many values (aliases)"},
		{"infinity", "a: .inf", ".inf has no JSON form"},
		{"NaN", "a: [1, .NaN]", ".NaN has no JSON form"},
		{"mapping key", "? {a: 1}\n: x\n", "a mapping key must be a string, not a mapping"},
		{"null key", "~: x\n", "a mapping key must be a string, not null"},
		{"merge of a scalar", "a:\n  <<: 1\n", "a merge key (<<) must refer to a mapping or a sequence of mappings"},
		{"deep nesting", strings.Repeat("[", 300) + strings.Repeat("]", 300), "the document is nested more than 200 levels deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := emitJSON(t, tt.doc)
			if err == nil || err.msg != tt.want {
				t.Errorf("got error %+v, want %q", err, tt.want)
			}
			if err != nil && err.line < 1 {
				t.Errorf("error without a line: %+v", err)
			}
		})
	}
}

func TestFindPath(t *testing.T) {
	doc := `metadata:
  labels:
    app.kubernetes.io/name: web
    app: x
spec:
  ingress:
  - from:
    - podSelector: {}
    - podselector: {}
`
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	root := n.Content[0]
	tests := []struct {
		path string
		line int
	}{
		{"metadata.labels.app.kubernetes.io/name", 3},
		{"metadata.labels.app", 4},
		{"spec.ingress[0].from[1].podselector", 9},
		{"spec.ingress[0].from[5].x", 8}, // the deepest node found: the from list
		{"spec.egress", 6},               // spec
		{"", 1},
	}
	for _, tt := range tests {
		if got := findPath(root, tt.path); got == nil || got.Line != tt.line {
			t.Errorf("findPath(%q) = line %v, want %d", tt.path, got, tt.line)
		}
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct{ path, want string }{
		{"spec.podselector", "podSelector"},
		{"spec.ingress[0].from[0].namespaceSelectr", "namespaceSelector"},
		{"spec.egress[1].ports[0].endport", "endPort"},
		{"metadata.lables", "labels"},
		{"spec.completelydifferent", ""},
		{"metadata.labels.x.y", ""},
	}
	typ := kinds[netpolGVK].new()
	for _, tt := range tests {
		if got := suggest(reflectType(typ), tt.path); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestSplitYAML(t *testing.T) {
	data := "# c\n---\na: 1\n--- # x\n---\nb: 2\n...\n%YAML 1.1\n---\nc: 3\n----\nd: 4\n"
	var got []string
	for _, u := range splitYAML("f", []byte(data)) {
		got = append(got, fmt.Sprintf("%d:%q", u.line, u.data))
	}
	want := []string{
		`2:"---\na: 1\n"`,
		`5:"---\nb: 2\n"`,
		`8:"%YAML 1.1\n---\nc: 3\n----\nd: 4\n"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("splitYAML (-want +got):\n%s", diff)
	}
}

// TestLargeListsSplit checks that splitting a large list into its items,
// which then decode concurrently, gives exactly what decoding the list
// whole gives, and what the same objects give as separate documents.
func TestLargeListsSplit(t *testing.T) {
	objs := genObjects(300, 60)
	docs := LoadBytes("objs.yaml", genManifests(t, "yaml", objs), Options{})
	listYAML := genManifests(t, "list-yaml", objs)
	listJSON := genManifests(t, "list-json", objs)
	if len(listYAML) < splitMin || len(listJSON) < splitMin {
		t.Fatalf("test lists too small to be split: %d, %d bytes", len(listYAML), len(listJSON))
	}
	if n := len(splitYAML("l.yaml", listYAML)); n != len(objs) {
		t.Fatalf("YAML list split into %d units, want %d", n, len(objs))
	}
	if n := len(splitJSON("l.json", listJSON)); n != len(objs) {
		t.Fatalf("JSON list split into %d units, want %d", n, len(objs))
	}
	render := func(r *Result) string {
		var b strings.Builder
		for _, e := range r.Snapshot.Endpoints {
			fmt.Fprintf(&b, "%s %v %v %v\n", e.ID(), e.Labels, e.IPs, e.Ports)
		}
		for _, p := range r.Snapshot.Policies {
			fmt.Fprintf(&b, "%s %d\n", p.Ref(), len(p.Rules))
		}
		for _, p := range r.Snapshot.Problems {
			fmt.Fprintf(&b, "%s\n", p.Error())
		}
		return b.String()
	}
	want := render(docs)
	for name, data := range map[string][]byte{"l.yaml": listYAML, "l.json": listJSON} {
		if diff := cmp.Diff(want, render(LoadBytes(name, data, Options{}))); diff != "" {
			t.Errorf("%s differs from separate documents (-docs +list):\n%s", name, diff)
		}
	}
	// Item lines: the split list and the whole list agree.
	whole := unit{file: "l.yaml", line: 1, data: listYAML}
	wholeOut, _ := decodeUnit(&whole, "default")
	var split []decoded
	for _, u := range splitYAML("l.yaml", listYAML) {
		out, _ := decodeUnit(&u, "default")
		split = append(split, out...)
	}
	if len(split) != len(wholeOut) {
		t.Fatalf("split gives %d objects, whole %d", len(split), len(wholeOut))
	}
	for i := range split {
		if split[i].src != wholeOut[i].src {
			t.Fatalf("item %d: split source %v, whole %v", i, split[i].src, wholeOut[i].src)
		}
	}
}

// TestLargeListFallback checks that a list whose items cannot be parsed
// alone (an alias to an anchor of another item) is decoded whole.
func TestLargeListFallback(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	b.WriteString("- apiVersion: v1\n  kind: Pod\n  metadata: {name: p0, namespace: a, labels: &l {app: web}}\n")
	for i := 1; b.Len() < splitMin+1000; i++ {
		fmt.Fprintf(&b, "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p%d, namespace: a, labels: *l}\n", i)
	}
	units := splitYAML("l.yaml", b.Bytes())
	if len(units) < 2 || units[0].whole == nil {
		t.Fatalf("the list was not split: %d units", len(units))
	}
	r := LoadBytes("l.yaml", b.Bytes(), Options{})
	if len(r.Snapshot.Problems) > 0 {
		t.Fatalf("problems: %v", r.Snapshot.Problems[0])
	}
	if len(r.Snapshot.Endpoints) != len(units) {
		t.Fatalf("%d endpoints, want %d", len(r.Snapshot.Endpoints), len(units))
	}
	for _, e := range r.Snapshot.Endpoints {
		if e.Labels["app"] != "web" {
			t.Fatalf("%s: labels %v, want the anchored ones", e.ID(), e.Labels)
		}
	}
}

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(good, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}

	if _, err := Load([]string{good, filepath.Join(dir, "missing.yaml"), filepath.Join(dir, "gone")}, nil, Options{}); err == nil ||
		!strings.Contains(err.Error(), "missing.yaml") || !strings.Contains(err.Error(), "gone") {
		t.Errorf("missing paths: got error %v, want both named", err)
	}
	if _, err := Load([]string{"-", "-"}, strings.NewReader(""), Options{}); err == nil {
		t.Error(`"-" twice: no error`)
	}
	if _, err := Load([]string{"-"}, nil, Options{}); err == nil {
		t.Error(`"-" without stdin: no error`)
	}

	r, err := Load([]string{good, empty}, nil, Options{DefaultNamespace: "team"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(r.Snapshot.Endpoints); len(got) != 1 || got[0] != "team/p" {
		t.Errorf("default namespace: endpoints %v, want team/p", got)
	}
	want := []model.Problem{{Source: model.Source{File: empty}, Severity: model.SeverityWarning, Msg: "no manifests (*.yaml, *.yml, *.json) in this directory"}}
	if diff := cmp.Diff(want, r.Snapshot.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

var netpolGVK = schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}

func reflectType(v any) reflect.Type { return reflect.TypeOf(v) }

func TestJSONPath(t *testing.T) {
	data := []byte(`{"spec": {"containers": [{"name": "a"}, {"ports": [{"containerPort": "x"}, {"name": 1}]}]}, "metadata": {"labels": {"a.b/c": true}}}`)
	tests := []struct {
		after string // the offset is just after the first occurrence of this text
		want  string
	}{
		{`"x"`, "spec.containers[1].ports[0].containerPort"},
		{`"name": 1`, "spec.containers[1].ports[1].name"},
		{`"a.b/c": true`, "metadata.labels.a.b/c"},
		{`"a"`, "spec.containers[0].name"},
		{`{"ports": [`, "spec.containers[1].ports"},
	}
	for _, tt := range tests {
		off := int64(bytes.Index(data, []byte(tt.after)) + len(tt.after))
		if got := jsonPath(data, off); got != tt.want {
			t.Errorf("jsonPath after %s = %q, want %q", tt.after, got, tt.want)
		}
	}
	if got := stripIndexes("a[0].b[12].c"); got != "a.b.c" {
		t.Errorf("stripIndexes = %q", got)
	}
}
