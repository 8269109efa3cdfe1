// Package table writes aligned text tables and Markdown table cells for
// every command's human output (render, audit, diff, test, exposure,
// blast-radius), with optional ANSI colours whose escape codes do not
// count towards column widths. It never decides what to show.
package table
