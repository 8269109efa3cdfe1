// Package sarif holds the SARIF 2.1.0 (OASIS) types bulkhead writes: the
// subset code-scanning tools read, shared by `bulkhead audit -o sarif` and
// `bulkhead lint -o sarif` so that both write the same document shape.
// Each command fills the fields it has and encodes the Log itself.
//
// It never decides what a finding is, maps severities or touches files;
// sariftest validates documents against the official schema in tests.
package sarif
