package lint

import (
	"bufio"
	"fmt"
	"io"

	"github.com/bulkhead/bulkhead/model"
)

// TextOptions change the human output.
type TextOptions struct {
	// Verbose also lists suppressed and baselined findings.
	Verbose bool
	// Color enables ANSI colours (on a terminal).
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
)

func (o TextOptions) paint(code, s string) string {
	if !o.Color {
		return s
	}
	return code + s + ansiReset
}

// WriteText writes findings for people, one block per finding:
//
//	policies.yaml:167: warning BH-LINT-006 or-instead-of-and: NetworkPolicy shop-data/x: message
//	    fix: ...
//
// then a summary line. Suppressed and baselined findings appear only with
// Verbose, marked as such.
func WriteText(w io.Writer, fs []Finding, o TextOptions) error {
	bw := bufio.NewWriter(w)
	shown := 0
	for i := range fs {
		f := &fs[i]
		if !f.Active() && !o.Verbose {
			continue
		}
		shown++
		loc := f.Location()
		if loc == "" {
			loc = f.Object.Object()
		}
		sev := f.Severity.String()
		switch f.Severity {
		case model.SeverityError:
			sev = o.paint(ansiRed, sev)
		case model.SeverityWarning:
			sev = o.paint(ansiYellow, sev)
		default:
			sev = o.paint(ansiCyan, sev)
		}
		name := ""
		if c := Lookup(f.ID); c != nil {
			name = " " + c.Info().Name
		}
		var note string
		switch {
		case f.Suppressed:
			note = o.paint(ansiDim, "[suppressed: "+f.Reason+"] ")
		case f.Baselined:
			note = o.paint(ansiDim, "[in baseline] ")
		}
		fmt.Fprintf(bw, "%s: %s%s %s%s: %s: %s\n", loc, note, sev, f.ID, name, f.Subject, f.Msg)
		if f.Fix != "" {
			fmt.Fprintf(bw, "    fix: %s\n", f.Fix)
		}
	}
	n := Count(fs)
	if shown > 0 {
		bw.WriteByte('\n')
	}
	if n.Errors+n.Warnings+n.Infos == 0 {
		fmt.Fprintf(bw, "no findings")
		if n.Suppressed+n.Baselined > 0 {
			fmt.Fprintf(bw, " (%s)", Counts{Suppressed: n.Suppressed, Baselined: n.Baselined}.extra())
		}
		bw.WriteString("\n")
	} else {
		fmt.Fprintf(bw, "%s\n", n)
	}
	return bw.Flush()
}
