// Package depcheck holds only a test: it enforces the dependency arrows of
// docs/architecture.md, so pure packages stay pure.
package depcheck
