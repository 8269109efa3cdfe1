package lint

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/bulkhead/bulkhead/model"
	"go.yaml.in/yaml/v3"
)

// Locator finds the line of a field ("spec.ingress[0].from[1]") inside
// an object of a manifest file, so that findings point at the rule or
// peer rather than at the document. It is best effort: Line returns 0
// when the file cannot be read, the object cannot be found or the path
// does not exist, and callers fall back to the object's own line.
//
// A Locator parses only the object's own document (or list item) where it
// can, so large files cost little; it falls back to the whole file for
// JSON and for documents that do not stand alone (YAML aliases into
// another list item). It is not safe for concurrent use.
type Locator struct {
	read  func(file string) ([]byte, error)
	files map[string][]byte
	lines map[string][][]byte
	nodes map[model.Source]*located
}

type located struct {
	node   *yaml.Node
	offset int // add to node lines to get file lines
}

// maxWholeFile bounds the files parsed whole as a fallback.
const maxWholeFile = 8 << 20

// NewLocator returns a Locator that reads files with read (the caller's
// I/O; it is called at most once per file).
func NewLocator(read func(file string) ([]byte, error)) *Locator {
	return &Locator{read: read, files: map[string][]byte{}, lines: map[string][][]byte{}, nodes: map[model.Source]*located{}}
}

// Line returns the 1-based line of path in the object at src, or 0.
func (l *Locator) Line(src model.Source, path string) int {
	if src.File == "" || src.Line <= 0 {
		return 0
	}
	loc, ok := l.nodes[src]
	if !ok {
		loc = l.find(src)
		l.nodes[src] = loc
	}
	if loc == nil {
		return 0
	}
	if line := lineOf(loc.node, path); line > 0 {
		return line + loc.offset
	}
	return 0
}

func (l *Locator) file(name string) []byte {
	data, ok := l.files[name]
	if !ok {
		data, _ = l.read(name)
		l.files[name] = data
	}
	return data
}

// find parses the object that starts at src.Line.
func (l *Locator) find(src model.Source) *located {
	data := l.file(src.File)
	if len(data) == 0 {
		return nil
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return wholeFile(data, src)
	}
	lines, ok := l.lines[src.File]
	if !ok {
		lines = bytes.SplitAfter(data, []byte("\n"))
		l.lines[src.File] = lines
	}
	if seg, offset, ok := segment(lines, src.Line); ok {
		var doc yaml.Node
		if yaml.Unmarshal(seg, &doc) == nil && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
			return &located{node: doc.Content[0], offset: offset}
		}
	}
	return wholeFile(data, src)
}

// segment cuts the YAML text of the object starting at 1-based line
// start: the list item that begins there (its dash blanked out), or the
// document up to the next "---". offset is the number of lines before it.
func segment(lines [][]byte, start int) (seg []byte, offset int, ok bool) {
	if start > len(lines) {
		return nil, 0, false
	}
	first := lines[start-1]
	body := bytes.TrimLeft(first, " ")
	indent := len(first) - len(body)
	end := len(lines)
	if bytes.HasPrefix(body, []byte("- ")) || bytes.Equal(bytes.TrimRight(body, "\r\n"), []byte("-")) {
		for i := start; i < len(lines); i++ {
			t := bytes.TrimLeft(lines[i], " ")
			if len(bytes.TrimSpace(t)) == 0 || t[0] == '#' {
				continue
			}
			if len(lines[i])-len(t) <= indent {
				end = i
				break
			}
		}
		var b bytes.Buffer
		b.Write(first[:indent])
		b.WriteByte(' ')
		b.Write(body[1:])
		for _, ln := range lines[start:end] {
			b.Write(ln)
		}
		return b.Bytes(), start - 1, true
	}
	for i := start; i < len(lines); i++ {
		if bytes.HasPrefix(lines[i], []byte("---")) || bytes.HasPrefix(lines[i], []byte("...")) {
			end = i
			break
		}
	}
	return bytes.Join(lines[start-1:end], nil), start - 1, true
}

// wholeFile parses every document of data and finds the mapping that
// starts on src.Line and has src's name.
func wholeFile(data []byte, src model.Source) *located {
	if len(data) > maxWholeFile {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return nil
		}
		if n := findObject(&doc, src); n != nil {
			return &located{node: n}
		}
	}
}

func findObject(n *yaml.Node, src model.Source) *yaml.Node {
	if n.Kind == yaml.MappingNode && n.Line == src.Line {
		if meta := child(n, "metadata"); meta != nil {
			if name := child(meta, "name"); name != nil && name.Value == src.Name {
				return n
			}
		}
	}
	for _, c := range n.Content {
		if f := findObject(c, src); f != nil {
			return f
		}
	}
	return nil
}

// child returns the value of key in mapping n, following aliases.
func child(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// lineOf follows path ("spec.ingress[0].from[1]") from n and returns the
// line of the deepest node reached: the key's line when the path ends on
// a key, the item's line when it ends on an index. It returns 0 when the
// first step is missing.
func lineOf(n *yaml.Node, path string) int {
	line := 0
	for _, step := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(step, "[")
		if name != "" {
			m := deref(n)
			if m == nil || m.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(m.Content); i += 2 {
				if m.Content[i].Value == name {
					line, n, found = m.Content[i].Line, m.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			s := deref(n)
			if !ok || err != nil || s == nil || s.Kind != yaml.SequenceNode || i < 0 || i >= len(s.Content) {
				return line
			}
			n = s.Content[i]
			line = deref(n).Line
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return line
}
