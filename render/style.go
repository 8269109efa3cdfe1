package render

// Style says how text output may decorate itself.
type Style struct {
	// Color enables ANSI colours; the CLI sets it only on a terminal.
	Color bool
}

const (
	ansiReset = "\x1b[0m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

func (s Style) paint(code, text string) string {
	if !s.Color || text == "" {
		return text
	}
	return code + text + ansiReset
}

func (s Style) good(t string) string { return s.paint(ansiGreen, t) }
func (s Style) bad(t string) string  { return s.paint(ansiRed, t) }
func (s Style) bold(t string) string { return s.paint(ansiBold, t) }
func (s Style) dim(t string) string  { return s.paint(ansiDim, t) }
