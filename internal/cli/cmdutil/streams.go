package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// IOStreams are a command's standard streams. Results go to Out, progress,
// warnings and errors to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutIsTerminal enables colours in human output.
	OutIsTerminal bool
}

// StdStreams returns the process's streams.
func StdStreams() IOStreams {
	return IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, OutIsTerminal: isTerminal(os.Stdout)}
}

func isTerminal(f *os.File) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Exit codes shared by every command.
const (
	ExitOK = 0
	// ExitFindings: the command worked and found what it checks for
	// (denied expectations, lab mismatches, findings over a threshold).
	ExitFindings = 1
	// ExitInvalid: invalid input or usage.
	ExitInvalid = 2
)

// ExitError carries an exit code. Err may be nil when everything was
// already reported.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Invalid wraps err as an invalid-input error (exit 2).
func Invalid(err error) error { return &ExitError{Code: ExitInvalid, Err: err} }

// Invalidf formats an invalid-input error.
func Invalidf(format string, args ...any) error {
	return Invalid(fmt.Errorf(format, args...))
}

// ExitCode reports err on w and returns the process exit code.
func ExitCode(err error, w io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(w, "error:", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(w, "error:", err)
	return ExitInvalid
}

// NewLogger returns the CLI's logger on w: warnings by default, debug
// with verbose.
func NewLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
