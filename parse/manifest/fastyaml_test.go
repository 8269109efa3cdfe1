package manifest

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// slowYAML converts a one-document YAML text the general way: a yaml.v3
// node tree, then the emitter.
func slowYAML(data []byte) (*jsonText, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one document")
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("empty document")
	}
	e := newEmitter(0, len(data))
	e.value(doc.Content[0], 0)
	if e.err != nil {
		return nil, errors.New(e.err.msg)
	}
	return &e.jsonText, nil
}

var fastYAMLSeeds = []string{
	"a: 1\nb: two\nc: 'it''s'\nd: \"x y\"\ne: yes\nf: ~\ng:\nh: []\ni: {}\n",
	"---\nlist:\n- a\n- b: 1\n  c: 2\n-\n  - x\n- - y\n  - z\n-\n",
	"m:\n  n:\n    o: 1 # comment\n  # between\n  p: [] # after\nq:\n  - 1\n  - 0x1F\n  - 1e3\n  - 2026-01-02\n",
	"s: |\n  line one\n\n  line three\nt: |-\n  stripped\nu: |+\n  kept\n\nv: end\n",
	"w: |\n    deeper\n  less\n",
	"\"quoted key\": 1\n'single': 2\n80: http\ntrue: x\non: y\n",
	"  indented: root\n  other: 1\n",
	"a:\n- b\n- c\nd: e\n",
	"k: v:\n",
	"k: - x\n",
	"a: b\n c\n",
	"a: 'multi\n  line'\n",
	"a: \"esc\\n\"\n",
	"a: &x 1\nb: *x\n",
	"a: {b: 1}\n",
	"a: >\n  folded\n",
	"a:\n\tb: 1\n",
	"a: b #c\n#d\ne: f#g\n",
	"- a: 1\n  b:\n  - c\n- d\n",
	"a:\n  - b\n  -  c: 1\n     d: 2\n",
}

// FuzzFastYAML checks the fast path against yaml.v3: whenever fastYAML
// accepts a text, yaml.v3 must accept it too, and the JSON and the line
// marks must be identical.
func FuzzFastYAML(f *testing.F) {
	for _, s := range fastYAMLSeeds {
		f.Add([]byte(s))
	}
	for _, u := range splitYAML("seed.yaml", genManifests(f, "yaml", genObjects(3, 3))) {
		f.Add(u.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := fastYAML(data, 0)
		if !ok {
			return
		}
		slow, err := slowYAML(data)
		if err != nil {
			t.Fatalf("the fast path accepts what yaml.v3 does not (%v):\n%s", err, data)
		}
		if diff := cmp.Diff(string(slow.data), string(fast.data)); diff != "" {
			t.Fatalf("JSON differs (-yaml.v3 +fast):\n%s\ninput:\n%s", diff, data)
		}
		if diff := cmp.Diff(slow.offs, fast.offs); diff != "" {
			t.Fatalf("value offsets differ (-yaml.v3 +fast):\n%s\ninput:\n%s", diff, data)
		}
		if diff := cmp.Diff(slow.lines, fast.lines); diff != "" {
			t.Fatalf("value lines differ (-yaml.v3 +fast):\n%s\ninput:\n%s", diff, data)
		}
	})
}

// TestFastYAMLCoverage checks that the fast path takes what kubectl and
// yaml.Marshal write, which is what makes large loads fast, and declines
// what it cannot do exactly.
func TestFastYAMLCoverage(t *testing.T) {
	for _, format := range []string{"yaml", "list-yaml"} {
		for _, u := range splitYAML("gen.yaml", genManifests(t, format, genObjects(20, 20))) {
			if _, ok := fastYAML(u.data, 0); !ok {
				t.Fatalf("%s: the fast path declines generated output:\n%s", format, u.data)
			}
		}
	}
	declined := []string{
		"a: &x 1\nb: *x\n", "a: {b: 1}\n", "a: [1]\n", "a: >\n  folded\n", "a: \"esc\\n\"\n",
		"a: b\n c\n", "a: !!str 1\n", "a:\n\tb: 1\n", "a: é\n", "<<: {a: 1}\n", "? a\n: b\n",
		"a: |2\n   x\n", "--- a\n", "scalar\n", "",
	}
	for _, s := range declined {
		if _, ok := fastYAML([]byte(s), 0); ok {
			t.Errorf("the fast path takes %q, which it should leave to yaml.v3", s)
		}
	}
}

// TestPlainTagAgreesWithYAML checks the shortcut of plainTag against
// yaml.v3's own resolution, on typical values and on random strings of
// the characters numbers are made of.
func TestPlainTagAgreesWithYAML(t *testing.T) {
	values := []string{
		"10.0.0.5", "192.168.0.1", "1.2.3", "100m", "128Mi", "1Gi", "0.5", "1e3", "1E+3", "0x1F", "0o17",
		"017", "0b101", "-0b101", "+12", "-12", "1_000", "1..2", "12:30", "1:2:3", "2026-01-02",
		"2026-01-02T03:04:05Z", "2026-1-2", "1234-", "5.", ".5", "0x", "1e", "1.0e+3", "0b1.1", "9999999999999999999999",
		"yes", "true", "True", "TRUE", "tRue", "null", "Null", "NULL", "nil", "web", "Y", "ON", "v1", "a.b.c",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := numberChars + "mMiGpPtT:eE "
	for range 20000 {
		n := 1 + rng.IntN(8)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		b[0] = "0123456789"[rng.IntN(10)]
		values = append(values, string(b))
	}
	for _, v := range values {
		if plainTag(v, 0) != "!!str" {
			continue
		}
		n := yaml.Node{Kind: yaml.ScalarNode, Value: v}
		if got := n.ShortTag(); got != "!!str" {
			t.Errorf("plainTag(%q) = !!str, but yaml.v3 resolves it to %s", v, got)
		}
	}
}
