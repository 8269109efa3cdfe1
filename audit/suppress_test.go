package audit_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/audit"
	"github.com/google/go-cmp/cmp"
)

func TestParseSuppressions(t *testing.T) {
	date := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	tests := []struct {
		name  string
		value string
		want  []audit.Suppression
		errs  []string
	}{
		{"one", "BH-WL-004: the CNI needs it", []audit.Suppression{{IDs: []string{"BH-WL-004"}, Reason: "the CNI needs it"}}, nil},
		{"several with expiry", "BH-IMG-002,BH-IMG-003 until=2027-01-31: new pipeline: soon\n\nBH-WL-001: agent",
			[]audit.Suppression{
				{IDs: []string{"BH-IMG-002", "BH-IMG-003"}, Until: date("2027-01-31"), Reason: "new pipeline: soon"},
				{IDs: []string{"BH-WL-001"}, Reason: "agent"}}, nil},
		{"no reason", "BH-WL-004", nil, []string{"the reason is mandatory"}},
		{"empty reason", "BH-WL-004:   ", nil, []string{"the reason is mandatory"}},
		{"unknown check", "BH-WL-999: x", nil, []string{"no check BH-WL-999"}},
		{"not an ID", "privileged: x", nil, []string{"is not a check ID"}},
		{"bad date", "BH-WL-004 until=31.01.2027: x", nil, []string{"want a date"}},
		{"until before IDs", "until=2027-01-31 BH-WL-004: x", nil, []string{"after the IDs"}},
		{"valid and invalid", "BH-WL-004: ok\nBH-WL-001", []audit.Suppression{{IDs: []string{"BH-WL-004"}, Reason: "ok"}}, []string{"entry 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := audit.ParseSuppressions(tt.value)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if len(errs) != len(tt.errs) {
				t.Fatalf("errors %v, want %d", errs, len(tt.errs))
			}
			for i, e := range errs {
				if !strings.Contains(e.Error(), tt.errs[i]) {
					t.Errorf("error %q does not say %q", e, tt.errs[i])
				}
			}
		})
	}
}

const suppressed = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations:
    bulkhead.dev/audit-ignore: "BH-IMG-003: digests come with the new pipeline"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
  namespace: shop
  annotations:
    bulkhead.dev/audit-ignore: |
      BH-WL-004 until=2026-12-31: the agent needs the host network until v2
      BH-WL-001 until=2026-01-31: privileged until the January release
      BH-WL-005
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      hostPID: true
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 1000}
      containers:
      - name: agent
        image: registry.k8s.io/agent:1.0
        securityContext: {privileged: true}
`

// TestSuppressionAnnotations: a live suppression suppresses, an expired one
// stops suppressing with a note, a malformed one suppresses nothing with a
// note, and a namespace annotation covers the namespace.
func TestSuppressionAnnotations(t *testing.T) {
	in := load(t, "s.yaml", []byte(suppressed))
	cfg := audit.Config{Now: testNow, Only: []string{"BH-WL-001", "BH-WL-004", "BH-WL-005", "BH-IMG-003"}}
	r := audit.Run(in, cfg)
	var active, sup []string
	for _, f := range r.Findings {
		active = append(active, f.ID)
	}
	for _, s := range r.Suppressed {
		sup = append(sup, s.ID+" "+s.By+" "+s.Until+" "+s.Reason)
	}
	if diff := cmp.Diff([]string{"BH-WL-001", "BH-WL-005"}, active); diff != "" {
		t.Errorf("active (-want +got):\n%s", diff)
	}
	wantSup := []string{
		"BH-WL-004 annotation 2026-12-31 the agent needs the host network until v2",
		"BH-IMG-003 annotation  digests come with the new pipeline",
	}
	if diff := cmp.Diff(wantSup, sup); diff != "" {
		t.Errorf("suppressed (-want +got):\n%s", diff)
	}
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{"shop/agent[Deployment]: the suppression of BH-WL-001 expired on 2026-01-31", "entry 3 \"BH-WL-005\"", "the reason is mandatory"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes do not say %q:\n%s", want, notes)
		}
	}
	// After the expiry, BH-WL-004 is back.
	cfg.Now = time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC)
	if r := audit.Run(in, cfg); len(r.Findings) != 3 {
		t.Errorf("after the expiry: %d active findings, want 3:\n%s", len(r.Findings), describe(r.Findings))
	}
	// On the expiry day itself it still holds.
	cfg.Now = time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)
	if r := audit.Run(in, cfg); len(r.Findings) != 2 {
		t.Errorf("on the expiry day: %d active findings, want 2", len(r.Findings))
	}
}

// TestBaselineRoundTrip: a baseline written from a report suppresses all of
// its findings, and a finding added later is reported.
func TestBaselineRoundTrip(t *testing.T) {
	in := loadDir(t, "../examples/insecure")
	r := audit.Run(in, audit.Config{Now: testNow})
	var buf bytes.Buffer
	if err := audit.WriteBaseline(&buf, r); err != nil {
		t.Fatal(err)
	}
	b, err := audit.ReadBaseline(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Findings) != len(r.Findings) {
		t.Fatalf("baseline holds %d findings, want %d", len(b.Findings), len(r.Findings))
	}
	again := audit.Run(in, audit.Config{Now: testNow, Baseline: b})
	if len(again.Findings) != 0 || len(again.Suppressed) != len(r.Findings) {
		t.Fatalf("with the baseline: %d active, %d suppressed", len(again.Findings), len(again.Suppressed))
	}
	more := []byte(`
---
apiVersion: v1
kind: Pod
metadata: {name: newcomer, namespace: shop-dev}
spec:
  hostPID: true
  containers: [{name: c, image: registry.k8s.io/pause:3.10}]
`)
	combined := loadWith(t, "../examples/insecure", more)
	third := audit.Run(combined, audit.Config{Now: testNow, Baseline: b})
	var ids []string
	for _, f := range third.Findings {
		if f.Subject.Name != "newcomer" {
			t.Errorf("baselined finding reported again: %s %s", f.ID, f.Subject)
		}
		ids = append(ids, f.ID)
	}
	if !contains(ids, "BH-WL-005") {
		t.Errorf("the new pod's hostPID is not reported: %v", ids)
	}
}

func TestReadBaselineErrors(t *testing.T) {
	for _, in := range []string{
		``,
		`{"apiVersion": "v1", "kind": "AuditBaseline", "findings": []}`,
		`{"apiVersion": "bulkhead.dev/v1", "kind": "AuditBaseline", "findings": [{"fingerprint": "abc"}]}`,
		`{"apiVersion": "bulkhead.dev/v1", "kind": "AuditBaseline", "findings": [], "extra": 1}`,
	} {
		if _, err := audit.ReadBaseline(strings.NewReader(in)); err == nil {
			t.Errorf("ReadBaseline(%q) accepts it", in)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
