// Package testutil holds helpers shared by bulkhead's tests: golden files
// with an -update flag, and a buffer safe for a writer and a polling test.
// It is imported only from _test.go files.
package testutil
