package render

import (
	"bufio"
	"io"
	"strings"
)

// mdEscape makes s safe inside a Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "*", `\*`, "_", `\_`).Replace(s)
}

func analysisMarkdown(w io.Writer, a *Analysis) error {
	bw := bufio.NewWriter(w)
	if a.Explain {
		bw.WriteString("| Source | Destination | Connections | Allowed by |\n|---|---|---|---|\n")
	} else {
		bw.WriteString("| Source | Destination | Connections |\n|---|---|---|\n")
	}
	for _, c := range a.Conns {
		bw.WriteString("| `" + c.Src.ID() + "` | `" + c.Dst.ID() + "` | " + mdEscape(connsString(c)) + " |")
		if a.Explain {
			bw.WriteString(" " + mdEscape(a.why(c)) + " |")
		}
		bw.WriteByte('\n')
	}
	for _, n := range a.notes() {
		bw.WriteString("\n> " + mdEscape(n) + "\n")
	}
	return bw.Flush()
}
