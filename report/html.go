package report

import (
	"bufio"
	_ "embed"
	"html/template"
	"io"
)

var (
	//go:embed assets/page.html.tmpl
	pageTemplate string
	//go:embed assets/style.css
	styleCSS string
	//go:embed assets/script.js
	scriptJS string
)

// tmpl is parsed once; html/template escapes every value by context
// (text, attributes, the SVG path data), so names from manifests cannot
// inject markup or script.
var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
}).Parse(pageTemplate))

// view is the template's data: the page plus the inlined assets.
type view struct {
	*page
	CSS template.CSS
	JS  template.JS
}

// WriteHTML writes the report of in as one self-contained HTML page.
func WriteHTML(w io.Writer, in Input, o Options) error {
	p := build(in, o)
	bw := bufio.NewWriter(w)
	if err := tmpl.Execute(bw, view{page: p, CSS: template.CSS(styleCSS), JS: template.JS(scriptJS)}); err != nil {
		return err
	}
	return bw.Flush()
}
