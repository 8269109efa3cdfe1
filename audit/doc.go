// Package audit is bulkhead's posture audit: a catalogue of checks for the
// network-security weaknesses that let attackers into a cluster and across
// it, run over a model.Snapshot, the engine's answers and the typed
// Kubernetes objects they came from.
//
// Every check is a plain Check value in its own file, with a stable ID
// (BH-NET-001, ...), a severity, a rationale, the remediation and the
// equivalent IDs of other scanners; Checks returns the catalogue and
// docs/checks.md is generated from it. Segmentation checks ask the engine
// what the policies actually allow rather than whether some policy exists:
// Run adds "probe" pods to a copy of the snapshot (an unlabelled pod in a
// namespace nobody has heard of, and one in every namespace) so that
// questions like "can a pod of any namespace reach this workload" and "is a
// new pod here denied by default" are answered with the exact policy
// semantics.
//
// Findings can be suppressed by an annotation on the object or its
// namespace (see ParseSuppressions), with a mandatory reason and an
// optional expiry, or by a baseline file of fingerprints. Reports render
// as text, JSON, SARIF 2.1.0 and JUnit XML.
//
// The package is pure: it never reads files, talks to a cluster, runs
// commands or touches the network. It never reads Secret objects, and
// findings name secrets and environment variables, never their values.
package audit
