package audit_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/audit"
)

// FuzzParseSuppressions: the annotation parser never panics, and every
// entry it accepts has check IDs of the catalogue and a reason.
func FuzzParseSuppressions(f *testing.F) {
	for _, s := range []string{"BH-WL-004: reason", "BH-IMG-002,BH-IMG-003 until=2027-01-31: a: b\nBH-WL-001", "until=x", ":", "\n\n", "BH-WL-004 until=2027-02-30: x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, _ := audit.ParseSuppressions(s)
		for _, e := range entries {
			if strings.TrimSpace(e.Reason) == "" || len(e.IDs) == 0 {
				t.Fatalf("accepted %q as %+v", s, e)
			}
			for _, id := range e.IDs {
				if audit.Lookup(id) == nil {
					t.Fatalf("accepted unknown ID %q", id)
				}
			}
		}
	})
}

// FuzzReadBaseline: the baseline reader never panics, and what it accepts
// it writes back readable.
func FuzzReadBaseline(f *testing.F) {
	f.Add(`{"apiVersion":"bulkhead.dev/v1","kind":"AuditBaseline","findings":[{"fingerprint":"0123456789abcdef","id":"BH-WL-001","subject":"a/b[Pod]"}]}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, s string) {
		b, err := audit.ReadBaseline(strings.NewReader(s))
		if err != nil {
			return
		}
		for fp := range b.Findings {
			if len(fp) != 16 {
				t.Fatalf("accepted fingerprint %q", fp)
			}
		}
		var buf bytes.Buffer
		if err := audit.WriteBaseline(&buf, &audit.Report{}); err != nil {
			t.Fatal(err)
		}
		if _, err := audit.ReadBaseline(&buf); err != nil {
			t.Fatal(err)
		}
	})
}
