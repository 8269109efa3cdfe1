// Package testutil holds helpers shared by bulkhead's tests: golden files
// with an -update flag. It is imported only from _test.go files.
package testutil
