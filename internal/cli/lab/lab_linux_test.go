//go:build linux

package lab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/internal/cli"
	"github.com/bulkhead/bulkhead/internal/cli/clitest"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
	labnet "github.com/bulkhead/bulkhead/lab"
)

// conc keeps the probes in flight low enough that a loaded machine does
// not stall them past their timeout.
const conc = "256"

var prefixSeq atomic.Int32

// testPrefix returns a lab prefix no other test or process uses, and
// checks at the end of the test that nothing with it is left.
func testPrefix(t *testing.T) string {
	p := fmt.Sprintf("bhc%d-%d-", os.Getpid(), prefixSeq.Add(1))
	t.Cleanup(func() {
		if left, err := labnet.List(p); err != nil || len(left) > 0 {
			t.Errorf("namespaces %v are left (err %v)", left, err)
			labnet.Cleanup(p)
		}
	})
	return p
}

func example(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "examples", name)
}

// TestPrivilegedLabRunShop: on the bundled shop, the wire agrees with the
// engine everywhere, and the truth table (golden) shows it.
func TestPrivilegedLabRunShop(t *testing.T) {
	netnstest.RequireRoot(t)
	out, stderr, code := clitest.Run(t, "", "lab", "run", example("shop"), "--prefix", testPrefix(t), "--concurrency", conc,
		"--port", "8080/TCP", "--port", "5432/TCP", "--port", "53/UDP")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	// A note on probes made again depends on the machine's load.
	var kept []string
	for _, line := range strings.SplitAfter(out, "\n") {
		if !strings.HasPrefix(line, "note: ") {
			kept = append(kept, line)
		}
	}
	testutil.Golden(t, "shop-run.txt.golden", []byte(strings.Join(kept, "")))
}

// TestPrivilegedLabRunJSON: lab run -o json writes exactly what
// `bulkhead matrix -o json` writes for the same ports, over the pods the
// lab builds (node-exporter, on the host network, is not one of them).
func TestPrivilegedLabRunJSON(t *testing.T) {
	netnstest.RequireRoot(t)
	ports := []string{"--port", "8080/TCP", "--port", "9100/TCP", "--port", "5432/TCP", "--port", "53/UDP", "--port", "443/TCP"}
	out, stderr, code := clitest.Run(t, "", append([]string{"lab", "run", example("shop"), "--prefix", testPrefix(t), "--concurrency", conc, "-o", "json"}, ports...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "0 mismatches") {
		t.Errorf("stderr lacks the summary:\n%s", stderr)
	}
	var wire map[string]map[string]map[string]bool
	if err := json.Unmarshal([]byte(out), &wire); err != nil {
		t.Fatalf("lab run -o json: %v\n%s", err, out)
	}
	mout, _, code := clitest.Run(t, "", append([]string{"matrix", example("shop"), "-o", "json"}, ports...)...)
	if code != 0 {
		t.Fatalf("matrix exit %d", code)
	}
	var engine map[string]map[string]map[string]bool
	if err := json.Unmarshal([]byte(mout), &engine); err != nil {
		t.Fatal(err)
	}
	const hostNet = "monitoring/node-exporter[DaemonSet]"
	for _, rows := range engine {
		delete(rows, hostNet)
		for _, row := range rows {
			delete(row, hostNet)
		}
	}
	if diff := cmp.Diff(engine, wire); diff != "" {
		t.Errorf("wire differs from bulkhead matrix (-matrix +wire):\n%s", diff)
	}
}

// TestPrivilegedLabRunMismatch: without the agent's rules the wire lets
// everything through, so every denied cell is a listed mismatch and the
// exit status is 1.
func TestPrivilegedLabRunMismatch(t *testing.T) {
	netnstest.RequireRoot(t)
	out, stderr, code := clitest.Run(t, "", "lab", "run", example("shop"), "--prefix", testPrefix(t), "--concurrency", conc, "--no-rules", "--port", "6379/TCP")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"MISMATCH shop-backend/catalog[Deployment] (10.244.1.3) -> shop-data/redis[StatefulSet] (10.244.1.6) 6379/TCP: engine says denied, wire says connected",
		"  ingress of shop-data/redis[StatefulSet]: NetworkPolicy Deny (isolated by",
		"MISMATCH shop-backend/cart[Deployment] (10.244.0.3) -> 203.0.113.0 in 203.0.113.0/25 6379/TCP: engine says denied, wire says connected",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "MISMATCH shop-backend/cart[Deployment] (10.244.0.3) -> shop-data/redis") {
		t.Errorf("cart may reach redis on 6379, yet it is listed as a mismatch")
	}
	if !strings.Contains(stderr, "mismatches between the engine and the wire") {
		t.Errorf("stderr: %s", stderr)
	}
}

// TestPrivilegedLabUpProbeDown: lab up serves until interrupted; lab
// probe attaches and agrees with the engine; probing with other ports
// fails its self-check; interrupting up deletes the lab; lab down deletes
// a lab whose process died.
func TestPrivilegedLabUpProbeDown(t *testing.T) {
	netnstest.RequireRoot(t)
	prefix := testPrefix(t)
	args := []string{example("multi-tenant"), "--prefix", prefix, "--nodes", "3", "--port", "8080/TCP", "--port", "53/UDP"}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var upOut, upErr testutil.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, append([]string{"lab", "up"}, args...), cmdutil.IOStreams{Out: &upOut, ErrOut: &upErr})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(upErr.String(), "is up") {
		select {
		case err := <-done:
			t.Fatalf("lab up returned early: %v\n%s\n%s", err, upOut.String(), upErr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("lab up is not up after 30s:\n%s", upErr.String())
		}
	}
	for _, want := range []string{"lab " + prefix + ": 3 nodes", "  pod       ", "  external  ", "  rules     the node agent's rules"} {
		if !strings.Contains(upOut.String(), want) {
			t.Errorf("lab up output lacks %q:\n%s", want, upOut.String())
		}
	}

	out, stderr, code := clitest.Run(t, "", append([]string{"lab", "probe", "--concurrency", conc}, args...)...)
	if code != 0 || !strings.Contains(out, " 0 mismatches") {
		t.Errorf("lab probe: exit %d\n%s\n%s", code, out, stderr)
	}
	// Another port than up listens on: the lab is not the one described.
	out, stderr, code = clitest.Run(t, "", append([]string{"lab", "probe", "--concurrency", conc}, append(args, "--port", "4242/TCP")...)...)
	if code != 2 || !strings.Contains(out, "SELF-CHECK FAILED") {
		t.Errorf("lab probe with another port: exit %d, want 2 and a failed self-check\n%s\n%s", code, out, stderr)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("lab up: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("lab up did not stop")
	}
	if left, _ := labnet.List(prefix); len(left) > 0 {
		t.Errorf("after lab up stopped, %v are left", left)
	}

	// A lab whose process died: lab down deletes it.
	l, err := labnet.Up(context.Background(), labnet.Topology{Prefix: prefix, Hosts: []labnet.Host{{Name: "a/b", Node: "n"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	out, stderr, code = clitest.Run(t, "", "lab", "down", "--prefix", prefix)
	if code != 0 || !strings.Contains(out, "deleted netns "+prefix+"node-n") {
		t.Errorf("lab down: exit %d\n%s\n%s", code, out, stderr)
	}
}
