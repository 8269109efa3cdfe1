package lint

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteDocs writes the reference of every check in Markdown, from the
// registry: what docs/lint.md holds (a test regenerates it with -update
// and fails when it drifts). examples maps a check ID to a finding to
// quote, typically from examples/lint/mistakes.
func WriteDocs(w io.Writer, examples map[string]Finding) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(`# bulkhead lint

<!-- Generated from the check registry in lint/ by
     go test ./lint -run TestDocs -update; do not edit. -->

` + "`bulkhead lint`" + ` finds mistakes in network policies: each finding has an ID, a
severity, the file and line, a plain explanation and the fix.

    bulkhead lint examples/lint/mistakes
    bulkhead lint manifests/ -o sarif > bulkhead.sarif     # for code scanning
    bulkhead lint manifests/ -o json
    bulkhead lint manifests/ --fail-on warning             # exit 1 on warnings too
    bulkhead lint manifests/ --baseline-write .bulkhead-baseline.json
    bulkhead lint manifests/ --baseline .bulkhead-baseline.json   # fail only on new findings
    bulkhead lint manifests/ -n payments                    # report one team's namespace
    bulkhead lint manifests/ --check BH-LINT-004 --skip-check BH-LINT-010
    bulkhead lint --list-checks

Exit status: 0 when no active finding reaches the --fail-on severity
(error by default; warning, info, or none), 1 when one does, 2 for invalid
input or usage. Lines point at the rule or peer a finding is about where
the YAML allows it, else at the object. ` + "`-n`" + ` lints everything (a peer in
one namespace selects pods of others) and reports the findings of policies
in the given namespaces; cluster-wide policies are then left out.

Checks marked "needs workloads" decide from the pods and workloads in the
input (Pods, Deployments, StatefulSets, ...): lint the policies together
with the workloads they protect. Without any, those checks report nothing
and say so on stderr.

## Suppressing a finding

Annotate the object (the policy, or a workload a finding names):

    metadata:
      annotations:
        bulkhead.dev/lint-ignore: "BH-LINT-008: the storefront is public by design"

Several entries go on separate lines (a YAML block scalar, |); one entry
may list several IDs separated by commas. The reason after the colon
is required; an entry without one, or naming an unknown ID, suppresses
nothing and is itself a finding (BH-LINT-100). Suppressed findings are
hidden from the text output unless -v is given, and stay in JSON
(` + "`suppressed: true`" + `, with the reason) and in SARIF (as suppressions).

## Baseline

` + "`--baseline-write FILE`" + ` records the current findings; ` + "`--baseline FILE`" + ` then
reports only findings that are not in it, so CI fails on new mistakes while
old ones are fixed at their own pace. Findings are matched by a fingerprint
of the check, the object (kind, namespace, name), the field path and the
other object involved, never the file or the line: moving a policy or
editing around it keeps its findings matched. Findings of the baseline that
are gone are listed on stderr, so the file can be refreshed.

## Outputs

- ` + "`-o txt`" + ` (default): one line per finding, ` + "`file:line: severity ID name: subject: message`" + `, and its fix.
- ` + "`-o json`" + `: ` + "`{apiVersion: bulkhead.dev/v1, kind: LintReport, summary, findings: [...]}`" + `, each finding
  with id, check, severity, subject, object, file, line, path, message, fix,
  fingerprint, and suppressed/reason/baselined when set.
- ` + "`-o sarif`" + `: SARIF 2.1.0 with every check as a rule (help text included), results with
  ruleId, level (error, warning, note), the location (URI relative to the repository root,
  start line), a partial fingerprint, suppressions and, with --baseline, the baseline state.
  Upload it to a code-scanning service to see findings inline in pull requests.

## Checks

| ID | name | severity | summary |
|---|---|---|---|
`)
	for _, c := range registry {
		info := c.Info()
		fmt.Fprintf(bw, "| [%s](#%s) | %s | %s | %s |\n", info.ID, anchor(info), info.Name, info.Severity, info.Summary)
	}
	for _, c := range registry {
		info := c.Info()
		fmt.Fprintf(bw, "\n### %s %s\n\n", info.ID, info.Name)
		fmt.Fprintf(bw, "Severity: %s", info.Severity)
		if info.NeedsWorkloads {
			bw.WriteString(" (needs workloads)")
		}
		bw.WriteString(".\n\n" + info.Summary + "\n\n" + info.Doc + "\n\n**Fix:** " + info.Fix + "\n")
		if f, ok := examples[info.ID]; ok {
			fmt.Fprintf(bw, "\nExample, from `%s`:\n\n", f.Location())
			fmt.Fprintf(bw, "    %s %s: %s: %s\n", f.Severity, f.ID, f.Subject, wrapIndent(f.Msg))
			if f.Fix != "" {
				fmt.Fprintf(bw, "    fix: %s\n", wrapIndent(f.Fix))
			}
		}
	}
	return bw.Flush()
}

// anchor is the Markdown heading anchor of a check's section.
func anchor(info Info) string {
	return strings.ToLower(info.ID + "-" + info.Name)
}

// wrapIndent keeps a long example on one indented code line.
func wrapIndent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }
