// Package render writes the engine's answers for people and for machines:
// aligned text (with colours on a terminal), JSON, CSV, Markdown and
// Graphviz DOT. One file per format. It never computes connectivity
// itself and never decides what to show: callers pass what is in scope.
package render
