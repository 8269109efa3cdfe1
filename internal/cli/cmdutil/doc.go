// Package cmdutil holds what every bulkhead command shares: the I/O
// streams, exit codes, the input flags that load manifests into an
// engine, and output-format handling. It is the only CLI package command
// packages import.
package cmdutil
