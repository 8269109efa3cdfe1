package audit_test

import (
	"fmt"
	"time"

	"github.com/bulkhead/bulkhead/audit"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

func ExampleRun() {
	res := manifest.LoadBytes("app.yaml", []byte(`apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop}
spec:
  hostNetwork: true
  containers:
  - name: shell
    image: nicolaka/netshoot:latest
    securityContext: {privileged: true}
`), manifest.Options{})
	in := audit.Input{Snapshot: res.Snapshot}
	for _, o := range res.Objects {
		in.Objects = append(in.Objects, audit.Object{Source: o.Source, Obj: o.Obj})
	}
	r := audit.Run(in, audit.Config{Only: []string{"BH-WL-001", "BH-WL-004", "BH-IMG-002"}, Now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)})
	for _, f := range r.Findings {
		fmt.Printf("%s %s %s: %s (%s)\n", f.Severity, f.ID, f.Subject, f.Msg, f.Source.Location())
	}
	fmt.Println(r.Summary())
	// Output:
	// critical BH-WL-001 shop/debug[Pod]: container shell runs privileged (app.yaml:1)
	// high BH-WL-004 shop/debug[Pod]: uses the host network: no NetworkPolicy applies to it (app.yaml:1)
	// medium BH-IMG-002 shop/debug[Pod]: container shell runs nicolaka/netshoot:latest (app.yaml:1)
	// 1 critical, 1 high, 1 medium, 0 low, 0 info
}

func ExampleParseSuppressions() {
	entries, errs := audit.ParseSuppressions(`BH-WL-004: the CNI agent needs the host network
BH-IMG-002,BH-IMG-003 until=2027-01-31: digests come with the new pipeline
BH-WL-001`)
	for _, e := range entries {
		fmt.Println(e.IDs, e.Until.Format("2006-01-02"), e.Reason)
	}
	for _, err := range errs {
		fmt.Println("error:", err)
	}
	// Output:
	// [BH-WL-004] 0001-01-01 the CNI agent needs the host network
	// [BH-IMG-002 BH-IMG-003] 2027-01-31 digests come with the new pipeline
	// error: entry 3 "BH-WL-001": want "ID[,ID] [until=YYYY-MM-DD]: reason"; the reason is mandatory
}
