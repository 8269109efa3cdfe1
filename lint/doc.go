// Package lint finds mistakes in network policies: policies and peers
// that select nothing, named ports no pod serves, egress isolation that
// cuts pods off the cluster DNS, names that say the opposite of what the
// rules do, separate peer items where one item (an AND) was meant,
// ipBlocks that contain pod addresses, allow-all rules open to the
// internet, rules other rules make redundant or unreachable, policies on
// hostNetwork pods, Admin-tier Pass rules with nothing below them and
// same-priority cluster policies whose order is undefined.
//
// Each check is one file holding one Check, registered in Checks; the
// registry is the single source of the check IDs (BH-LINT-001, ...), their
// default severities and their documentation: docs/lint.md is generated
// from it. Run runs every check on an engine and applies the suppressions
// that objects carry in their bulkhead.dev/lint-ignore annotation; a
// Baseline marks the findings a project has already accepted, by a
// fingerprint that does not depend on line numbers. Findings are written
// for people (text), for programs (JSON) and for code-scanning tools
// (SARIF 2.1.0).
//
// Checks use the engine's semantics (eval) wherever a question is about
// connections, and reason on selectors syntactically where a finding must
// hold for pods that do not exist yet (a rule is redundant only if
// another rule provably covers it). The package is pure: it never reads
// files (callers pass file contents to Locator), never talks to a cluster
// and never writes anywhere but the io.Writer it is given.
package lint
