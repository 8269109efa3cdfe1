package audit

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/bulkhead/bulkhead/render"
	"github.com/bulkhead/bulkhead/render/table"
)

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

func paint(st render.Style, code, s string) string {
	if !st.Color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func severityColor(s Severity) string {
	switch s {
	case Critical:
		return ansiBold + ansiRed
	case High:
		return ansiRed
	case Medium:
		return ansiYellow
	case Low:
		return ansiCyan
	}
	return ansiDim
}

// WriteText writes the report for people: findings grouped by severity,
// most severe first, then the namespace scores, the network plugins, the
// suppressions and the notes.
func WriteText(w io.Writer, r *Report, st render.Style) error {
	bw := bufio.NewWriter(w)
	counts := r.Counts()
	for _, sev := range Severities {
		if counts[sev] == 0 {
			continue
		}
		head := fmt.Sprintf("%s (%d)", strings.ToUpper(sev.String()), counts[sev])
		fmt.Fprintln(bw, paint(st, severityColor(sev), head))
		t := table.Table{Indent: "  "}
		t.Add(paint(st, ansiBold, "CHECK"), paint(st, ansiBold, "SUBJECT"), paint(st, ansiBold, "FINDING"), paint(st, ansiBold, "WHERE"))
		for _, f := range r.Findings {
			if f.Severity != sev {
				continue
			}
			subj := f.Subject.String()
			if f.Container != "" {
				subj += " [" + f.Container + "]"
			}
			t.Add(paint(st, severityColor(sev), f.ID), subj, f.Msg, paint(st, ansiDim, f.Source.Location()))
		}
		t.Write(bw)
		fmt.Fprintln(bw)
	}
	if len(r.Findings) == 0 {
		fmt.Fprintln(bw, paint(st, ansiGreen, "no findings"))
		fmt.Fprintln(bw)
	}

	if len(r.Scores) > 0 {
		var t table.Table
		t.Add(paint(st, ansiBold, "NAMESPACE"), paint(st, ansiBold, "SCORE"), paint(st, ansiBold, "FAILING CHECKS (C/H/M/L)"), paint(st, ansiBold, "FINDINGS"))
		for _, s := range r.Scores {
			ns := s.Namespace
			if ns == "" {
				ns = "(cluster)"
			}
			score := fmt.Sprintf("%d", s.Score)
			switch {
			case s.Score >= 90:
				score = paint(st, ansiGreen, score)
			case s.Score < 50:
				score = paint(st, ansiRed, score)
			default:
				score = paint(st, ansiYellow, score)
			}
			t.Add(ns, score, fmt.Sprintf("%d/%d/%d/%d", s.Failing[Critical], s.Failing[High], s.Failing[Medium], s.Failing[Low]), fmt.Sprintf("%d", s.Findings))
		}
		t.Write(bw)
		fmt.Fprintln(bw)
	}

	if len(r.CNIs) > 0 {
		fmt.Fprintln(bw, paint(st, ansiBold, "NETWORK PLUGINS"))
		for _, n := range r.CNIs {
			var parts []string
			for _, api := range PolicyAPIs {
				parts = append(parts, api+": "+n.Support[api].String())
			}
			fmt.Fprintf(bw, "  %s: %s\n", n, strings.Join(parts, ", "))
		}
		fmt.Fprintln(bw)
	}
	if len(r.Suppressed) > 0 {
		by := map[string]int{}
		for _, s := range r.Suppressed {
			by[s.By]++
		}
		fmt.Fprintf(bw, "%d finding(s) suppressed: %d by annotation, %d by the baseline\n", len(r.Suppressed), by["annotation"], by["baseline"])
	}
	for _, n := range r.Notes {
		fmt.Fprintln(bw, paint(st, ansiYellow, "note: ")+n)
	}
	fmt.Fprintf(bw, "%d checks, %d findings: %s\n", len(r.Checks), len(r.Findings), r.Summary())
	return bw.Flush()
}
