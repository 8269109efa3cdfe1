package render

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// Analysis is what `bulkhead analyze` shows: the endpoints in scope and the
// connections between them.
type Analysis struct {
	Engine *eval.Engine
	// Endpoints are the endpoints in scope, in display order.
	Endpoints []*model.Endpoint
	Conns     []eval.Conn
	// Explain adds the allowing rules to every connection.
	Explain bool
}

// AnalysisFormats are the formats WriteAnalysis supports.
var AnalysisFormats = []Format{Text, JSON, CSV, Markdown, DOT}

// WriteAnalysis writes a in format f.
func WriteAnalysis(w io.Writer, f Format, a *Analysis, style Style) error {
	switch f {
	case Text:
		return analysisText(w, a, style)
	case JSON:
		return analysisJSON(w, a)
	case CSV:
		return analysisCSV(w, a)
	case Markdown:
		return analysisMarkdown(w, a)
	case DOT:
		return analysisDOT(w, a)
	}
	return fmt.Errorf("analyze: unsupported output format %q", f)
}

// why returns the explanation column of c.
func (a *Analysis) why(c eval.Conn) string {
	if !a.Explain {
		return ""
	}
	eg, in := a.Engine.AllowedBy(c.Src, c.Dst)
	w := Why(eg, in)
	if w == "" {
		w = "no policy restricts it"
	}
	return w
}

// connsString formats the allowed connections with any unknown part.
func connsString(c eval.Conn) string {
	s := c.Allowed.String()
	if !c.Unknown.IsEmpty() {
		if c.Allowed.IsEmpty() {
			s = ""
		} else {
			s += " "
		}
		s += "(unknown: " + c.Unknown.String() + " depends on domain names)"
	}
	return s
}

// notes lists endpoints that deserve a remark: hostNetwork pods, which no
// policy applies to, and endpoints of interest to the reader.
func (a *Analysis) notes() []string {
	var host []string
	for _, ep := range a.Endpoints {
		if ep.HostNetwork {
			host = append(host, ep.ID())
		}
	}
	var out []string
	if len(host) > 0 {
		sort.Strings(host)
		out = append(out, "hostNetwork (not subject to network policies): "+strings.Join(host, ", "))
	}
	return out
}
