package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/bulkhead/bulkhead/internal/typo"
	"github.com/bulkhead/bulkhead/model"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/meta"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"
)

// decoded is one object of the input, decoded and typed, or the problems
// that kept it from being so.
type decoded struct {
	obj      k8sruntime.Object
	src      model.Source
	problems []model.Problem
	// skip is why the object is left out, for kinds not modelled.
	skip string
	// raw is the JSON of an object of a kind not modelled (never a
	// Secret), for callers that read other kinds (the posture audit).
	raw []byte
}

// decoder decodes one unit. Problems name the most precise line known: the
// line of the offending field where the decoder can tell, else the line
// where the object starts.
type decoder struct {
	u     *unit
	defNS string
	out   []decoded
	// syntaxErr is set when a YAML document of the unit did not parse.
	syntaxErr bool
	// tree is the unit's YAML tree once reparse has parsed it.
	tree   *yaml.Node
	parsed bool
}

const maxListDepth = 10

func decodeUnit(u *unit, defNS string) (out []decoded, syntaxErr bool) {
	d := decoder{u: u, defNS: defNS}
	switch {
	case u.json:
		doc := d.jsonDoc(u.data)
		d.jsonObject(doc, 0, len(u.data), "", u.list, 0)
	default:
		if jt, ok := fastYAML(u.data, u.line-1); ok {
			doc := &jdoc{data: jt.data, lineAt: jt.lineAt, root: d.reparse}
			d.jsonObject(doc, 0, len(jt.data), "", u.list, 0)
			break
		}
		d.yamlStream()
	}
	return d.out, d.syntaxErr
}

func (d *decoder) problem(src model.Source, fld string, sev model.Severity, msg string) {
	d.out = append(d.out, decoded{src: src, problems: []model.Problem{{Source: src, Field: fld, Severity: sev, Msg: msg}}})
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// scannerProblems are the messages of the YAML scanner's errors. yaml.v3
// reports their line 1-based, but the line of the parser's errors 0-based
// (it prints the 0-based mark of the error's context).
var scannerProblems = []string{
	"block sequence entries are not allowed", "could not find expected", "did not find expected alphabetic",
	"did not find expected comment or line break", "did not find expected digit", "did not find expected hexdecimal",
	"did not find expected version", "did not find expected whitespace", "did not find the expected '>'",
	"exceeded max depth", "found a tab character", "found an indentation indicator", "found character that cannot",
	"found extremely long", "found invalid Unicode", "found unexpected document indicator",
	"found unexpected end of stream", "found unexpected non-alphabetical", "found unknown directive",
	"found unknown escape", "mapping keys are not allowed", "mapping values are not allowed",
}

// yamlErrorLine returns the 1-based line of a yaml.v3 error that says
// "line n".
func yamlErrorLine(n int, msg string) int {
	for _, p := range scannerProblems {
		if strings.HasPrefix(msg, p) {
			return n
		}
	}
	return n + 1
}

func (d *decoder) yamlStream() {
	dec := yaml.NewDecoder(bytes.NewReader(d.u.data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			d.syntaxErr = true
			src := model.Source{File: d.u.file, Line: d.u.line}
			msg := err.Error()
			if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
				msg = msg[len(m[0]):]
				if n, err := strconv.Atoi(m[1]); err == nil {
					src.Line = d.u.line + yamlErrorLine(n, msg) - 1
				}
			}
			d.problem(src, "", model.SeverityError, "YAML syntax error: "+msg)
			return
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // an empty document
		}
		d.yamlObject(root, d.u.list, 0)
	}
}

// objMeta is what identifies an object before it is decoded.
type objMeta struct{ apiVersion, kind, name, namespace string }

func (d *decoder) source(m objMeta, line int) model.Source {
	return model.Source{File: d.u.file, Line: line, Kind: m.kind, Namespace: m.namespace, Name: m.name}
}

func (d *decoder) yamlObject(n *yaml.Node, list *listCtx, depth int) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	line := d.u.line + n.Line - 1
	if n.Kind != yaml.MappingNode {
		d.problem(model.Source{File: d.u.file, Line: line}, "", model.SeverityError,
			fmt.Sprintf("not a Kubernetes object: want a mapping with apiVersion and kind, got a %s", kindName(n)))
		return
	}
	var m objMeta
	m.apiVersion, _ = scalarAt(n, "apiVersion")
	m.kind, _ = scalarAt(n, "kind")
	md := mapGet(n, "metadata")
	m.name, _ = scalarAt(md, "name")
	m.namespace, _ = scalarAt(md, "namespace")
	m = inherit(m, list)
	src := d.source(m, line)

	if items := mapGet(n, "items"); isListKind(m.kind) && items != nil {
		if depth >= maxListDepth {
			d.problem(src, "items", model.SeverityError, fmt.Sprintf("lists nested more than %d deep", maxListDepth))
			return
		}
		switch {
		case items.Kind == yaml.SequenceNode:
			ctx := &listCtx{m.apiVersion, m.kind}
			for _, it := range items.Content {
				d.yamlObject(it, ctx, depth+1)
			}
		case items.ShortTag() != "!!null":
			d.problem(d.at(src, items), "items", model.SeverityError, "a list's items must be a sequence")
		}
		return
	}
	info := d.kind(m, src)
	if info == nil {
		d.keepRaw(m, func() []byte {
			e := newEmitter(d.u.line-1, len(d.u.data))
			e.value(n, 0)
			if e.err != nil {
				return nil
			}
			return e.data
		})
		return
	}
	src = d.namespace(info, src)
	e := newEmitter(d.u.line-1, len(d.u.data))
	e.value(n, 0)
	if e.err != nil {
		src.Line = e.err.line
		d.problem(src, "", model.SeverityError, e.err.msg)
		return
	}
	d.typedJSON(info, e.data, src, func() *yaml.Node { return n }, d.u.line, e.lineAt)
}

// at returns src with the line of node n.
func (d *decoder) at(src model.Source, n *yaml.Node) model.Source {
	src.Line = d.u.line + n.Line - 1
	return src
}

// inherit fills in the apiVersion and kind of an item of a typed list
// (PodList items carry neither).
func inherit(m objMeta, list *listCtx) objMeta {
	if list != nil && m.kind == "" && m.apiVersion == "" && list.kind != "List" {
		m.kind = strings.TrimSuffix(list.kind, "List")
		m.apiVersion = list.apiVersion
	}
	return m
}

// jdoc is a document as JSON: a JSON input, or YAML converted by the fast
// path.
type jdoc struct {
	data []byte
	// lineAt returns the source line of the value at JSON offset off.
	lineAt func(off int64) int
	// root returns the document's YAML tree, parsed again on demand to
	// find where a field is; its lines count from the unit's first line.
	root func() *yaml.Node
}

func (d *decoder) jsonDoc(data []byte) *jdoc {
	line := d.u.line
	return &jdoc{
		data: data,
		lineAt: func(off int64) int {
			if off < 0 || off > int64(len(data)) {
				return line
			}
			return line + bytes.Count(data[:off], []byte{'\n'})
		},
		root: d.reparse,
	}
}

// reparse parses the unit with yaml.v3 (JSON is YAML too), once, for
// the rare problems whose line only the tree can tell.
func (d *decoder) reparse() *yaml.Node {
	if !d.parsed {
		d.parsed = true
		var doc yaml.Node
		if yaml.Unmarshal(d.u.data, &doc) == nil && len(doc.Content) > 0 {
			d.tree = doc.Content[0]
		}
	}
	return d.tree
}

// jsonObject decodes the object at doc.data[start:end], which is at path
// in the document ("" for the document itself, "items[2]" for a list
// item).
func (d *decoder) jsonObject(doc *jdoc, start, end int, path string, list *listCtx, depth int) {
	data := doc.data[start:end]
	lineAt := func(off int64) int { return doc.lineAt(int64(start) + off) }
	line := lineAt(0)
	meta, ok := scanMeta(data)
	if !ok {
		// Not a well-formed object: let the JSON decoder say why.
		var v map[string]any
		err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, &v)
		msg := "not a Kubernetes object: want a JSON object with apiVersion and kind"
		l := line
		if err != nil {
			if isSyntax, off := sigsjson.SyntaxErrorOffset(err); isSyntax {
				l = lineAt(off)
				msg = "JSON syntax error: " + strings.TrimPrefix(err.Error(), "json: ")
			}
		}
		d.problem(model.Source{File: d.u.file, Line: l}, "", model.SeverityError, msg)
		return
	}
	m := inherit(objMeta{meta.apiVersion, meta.kind, meta.name, meta.namespace}, list)
	src := d.source(m, line)
	if isListKind(m.kind) && meta.hasItems {
		if depth >= maxListDepth {
			d.problem(src, "items", model.SeverityError, fmt.Sprintf("lists nested more than %d deep", maxListDepth))
			return
		}
		if meta.items == nil {
			if !meta.nullItems {
				d.problem(src, "items", model.SeverityError, "a list's items must be a sequence")
			}
			return
		}
		ctx := &listCtx{m.apiVersion, m.kind}
		for i, it := range meta.items {
			d.jsonObject(doc, start+it.start, start+it.end, join(path, fmt.Sprintf("items[%d]", i)), ctx, depth+1)
		}
		return
	}
	info := d.kind(m, src)
	if info == nil {
		d.keepRaw(m, func() []byte { return data })
		return
	}
	src = d.namespace(info, src)
	node := func() *yaml.Node {
		n := doc.root()
		if n != nil && path != "" {
			n = findPath(n, path)
		}
		return n
	}
	d.typedJSON(info, data, src, node, d.u.line, lineAt)
}

func join(path, elem string) string {
	if path == "" {
		return elem
	}
	return path + "." + elem
}

// namespace places a namespaced object without namespace in the default
// namespace, and a cluster-scoped one in none, as Builder.Add does, so
// that decoding problems name the object as the model will.
func (d *decoder) namespace(info *kindInfo, src model.Source) model.Source {
	switch {
	case !info.namespaced:
		src.Namespace = ""
	case src.Namespace == "":
		src.Namespace = d.defNS
	}
	return src
}

// keepRaw attaches the object's JSON to the skip record kind() just
// wrote for a kind bulkhead does not model. Secrets are never kept: their
// values must not travel through bulkhead.
func (d *decoder) keepRaw(m objMeta, data func() []byte) {
	if len(d.out) == 0 || d.out[len(d.out)-1].skip != "kind not modelled" || m.kind == "Secret" || m.kind == "SecretList" {
		return
	}
	d.out[len(d.out)-1].raw = bytes.Clone(data())
}

// kind checks the apiVersion and kind of an object and returns what
// bulkhead knows of it, or nil when it is left out (with a problem or a
// skip record).
func (d *decoder) kind(m objMeta, src model.Source) *kindInfo {
	if m.apiVersion == "" || m.kind == "" {
		var missing []string
		if m.apiVersion == "" {
			missing = append(missing, "apiVersion")
		}
		if m.kind == "" {
			missing = append(missing, "kind")
		}
		d.problem(src, strings.Join(missing, ", "), model.SeverityError,
			"Required value: every object needs apiVersion and kind")
		return nil
	}
	gv, err := schema.ParseGroupVersion(m.apiVersion)
	if err != nil {
		d.problem(src, "apiVersion", model.SeverityError, fmt.Sprintf("Invalid value: %q: %v", m.apiVersion, err))
		return nil
	}
	if info := kinds[gv.WithKind(m.kind)]; info != nil {
		return info
	}
	if want, policy, ok := unsupportedVersion(gv.Group, m.kind); ok {
		msg := fmt.Sprintf("%s %s is not supported; bulkhead reads %s", m.apiVersion, m.kind, want)
		if policy {
			d.problem(src, "apiVersion", model.SeverityError, msg)
			return nil
		}
		d.out = append(d.out, decoded{src: src, skip: msg,
			problems: []model.Problem{{Source: src, Field: "apiVersion", Severity: model.SeverityWarning, Msg: msg + "; the object is skipped"}}})
		return nil
	}
	if otherPolicyKind(m.kind) {
		msg := fmt.Sprintf("%s %s is a network policy bulkhead does not model: results ignore it", m.apiVersion, m.kind)
		d.out = append(d.out, decoded{src: src, skip: "policy kind not modelled",
			problems: []model.Problem{{Source: src, Severity: model.SeverityWarning, Msg: msg}}})
		return nil
	}
	d.out = append(d.out, decoded{src: src, skip: "kind not modelled"})
	return nil
}

// typedJSON decodes an object's JSON into its Go type. Policies decode
// strictly: an unknown or duplicate field is an error and the policy is
// left out. Other kinds decode leniently: such fields are warnings. A
// value of the wrong type is an error for every kind.
func (d *decoder) typedJSON(info *kindInfo, data []byte, src model.Source, node func() *yaml.Node, base int, lineAt func(int64) int) {
	obj := info.new()
	strict, err := sigsjson.UnmarshalStrict(data, obj)
	var problems []model.Problem
	if err != nil {
		fld, msg, off := describeDecodeError(err, reflect.TypeOf(obj))
		if fld != "" && off > 0 {
			// The decoder's path has no list indexes; find the full one.
			if full := jsonPath(data, off); stripIndexes(full) == fld || strings.HasPrefix(stripIndexes(full), fld+".") {
				fld = full
			}
		}
		p := model.Problem{Source: src, Field: fld, Severity: model.SeverityError, Msg: msg}
		if off >= 0 {
			if l := lineAt(off); l > 0 {
				p.Source.Line = l
			}
		}
		d.out = append(d.out, decoded{src: src, problems: []model.Problem{p}})
		return
	}
	// The object is what the decoder made of the text: with a duplicate
	// field, the last value wins.
	if acc, err := meta.Accessor(obj); err == nil {
		src.Name = acc.GetName()
		if info.namespaced && acc.GetNamespace() != "" {
			src.Namespace = acc.GetNamespace()
		}
	}
	sev := model.SeverityWarning
	if info.policy {
		sev = model.SeverityError
	}
	for _, se := range strict {
		p := model.Problem{Source: src, Severity: sev, Msg: se.Error()}
		var fe sigsjson.FieldError
		if errors.As(se, &fe) {
			p.Field = fe.FieldPath()
			kind, _, _ := strings.Cut(se.Error(), " \"")
			p.Msg = kind
			if kind == "unknown field" {
				if s := suggest(reflect.TypeOf(obj), p.Field); s != "" {
					p.Msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
			}
			if n := findPath(node(), p.Field); n != nil {
				p.Source.Line = base + n.Line - 1
			}
		}
		if info.policy {
			p.Msg += "; the policy is left out"
		}
		problems = append(problems, p)
	}
	if info.policy && len(strict) > 0 {
		d.out = append(d.out, decoded{src: src, problems: problems})
		return
	}
	d.out = append(d.out, decoded{obj: obj, src: src, problems: problems})
}

// describeDecodeError turns a JSON decoding error into a field path, a
// message for people and the JSON offset it happened at (-1 if unknown).
func describeDecodeError(err error, root reflect.Type) (fld, msg string, off int64) {
	if isSyntax, o := sigsjson.SyntaxErrorOffset(err); isSyntax {
		return "", "JSON syntax error: " + strings.TrimPrefix(err.Error(), "json: "), o
	}
	// The type error of sigs.k8s.io/json is in an internal package; read
	// its fields by name.
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct && v.Elem().Type().Name() == "UnmarshalTypeError" {
		e := v.Elem()
		got := e.FieldByName("Value").String()
		fld = e.FieldByName("Field").String()
		off = e.FieldByName("Offset").Int()
		want := "a different type"
		if t, ok := e.FieldByName("Type").Interface().(reflect.Type); ok && t != nil {
			want = typeWord(t)
		}
		msg = fmt.Sprintf("wrong type: got %s, want %s", got, want)
		if got == "bool" && strings.HasPrefix(want, "a string") {
			msg += " (quote the value: kubectl reads unquoted true, false, yes, no, on, off, y and n as booleans)"
		}
		return fld, msg, off
	}
	return "", strings.TrimPrefix(err.Error(), "json: "), -1
}

// stripIndexes removes the list indexes of a field path:
// "a[0].b[1]" becomes "a.b".
func stripIndexes(path string) string {
	var b strings.Builder
	skip := false
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c == '[':
			skip = true
		case c == ']':
			skip = false
		case !skip:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func typeWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return typeWord(t.Elem())
	}
	return t.String()
}

// findPath returns the node at a field path as sigs.k8s.io/json writes it
// ("spec.ingress[0].podselector", "metadata.labels.app.kubernetes.io/name"),
// or the deepest node on the way. Keys may contain dots, so at each
// mapping the longest key that matches wins.
func findPath(n *yaml.Node, path string) *yaml.Node {
	last := n
	for n != nil && path != "" {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch {
		case strings.HasPrefix(path, "["):
			end := strings.IndexByte(path, ']')
			i, err := strconv.Atoi(path[1:max(end, 1)])
			if end < 0 || err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
				return last
			}
			n, path = n.Content[i], strings.TrimPrefix(path[end+1:], ".")
		case n.Kind == yaml.MappingNode:
			var best, bestKey *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if (path == k || strings.HasPrefix(path, k+".") || strings.HasPrefix(path, k+"[")) &&
					(bestKey == nil || len(k) > len(bestKey.Value)) {
					best, bestKey = n.Content[i+1], n.Content[i]
				}
			}
			if best == nil {
				return last
			}
			path = strings.TrimPrefix(path[len(bestKey.Value):], ".")
			if path == "" {
				// The field itself: point at its key, which is where an
				// unknown or duplicate field is written.
				return bestKey
			}
			n = best
		default:
			return last
		}
		last = n
	}
	return last
}

// suggest returns the JSON field name closest to the unknown last element
// of path, walking the Go type t along path, or "".
func suggest(t reflect.Type, path string) string {
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		name, rest, _ := strings.Cut(seg, "[")
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if i == len(segs)-1 {
			if t.Kind() != reflect.Struct {
				return ""
			}
			return closest(name, jsonFields(t))
		}
		if t.Kind() != reflect.Struct {
			return "" // map keys may contain dots: give up
		}
		ft, ok := jsonFields(t)[name]
		if !ok {
			return ""
		}
		t = ft
		for n := strings.Count(rest, "]"); n > 0; n-- {
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return ""
			}
			t = t.Elem()
		}
	}
	return ""
}

// jsonFields returns the JSON field names of a struct type, with inlined
// and embedded structs flattened.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if (f.Anonymous && name == "") || strings.Contains(opts, "inline") {
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// closest returns the name at the smallest edit distance from s, when it
// is close enough to be a likely typo: at most two edits, and at most
// half the length of s.
func closest(s string, names map[string]reflect.Type) string {
	return typo.Closest(s, maps.Keys(names), min(2, len(s)/2))
}
