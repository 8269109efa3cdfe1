package kube

import (
	"io"
	"time"
)

// ProgressForTest returns Options that print progress at once and often,
// reading pageSize objects per request.
func ProgressForTest(w io.Writer, pageSize int64, delay, every time.Duration) Options {
	return Options{Progress: w, PageSize: pageSize, progressDelay: delay, progressEvery: every}
}
