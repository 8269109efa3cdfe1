//go:build linux

package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netns"

	"github.com/bulkhead/bulkhead/dataplane"
	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

// writeCluster writes a generated cluster with every pod on node-0 to
// path, atomically (rename), with a modification time no other write of
// the test uses.
func writeCluster(t *testing.T, path string, cfg synth.Config, mtime time.Time) {
	t.Helper()
	c := synth.Generate(cfg)
	for _, p := range c.Pods {
		p.Spec.NodeName = "node-0"
	}
	var b bytes.Buffer
	if err := c.WriteYAML(&b); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// expected compiles the ruleset the agent must converge to for the
// manifests at path, as the nft text of its canonical form.
func expected(t *testing.T, path string) string {
	t.Helper()
	res, err := manifest.Load([]string{path}, nil, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := eval.New(res.Snapshot, eval.Options{})
	var local []*model.Endpoint
	for _, ep := range e.Endpoints() {
		if ep.Kind == model.EndpointPod && ep.NodeName == "node-0" {
			local = append(local, ep)
		}
	}
	rs, err := compile.Node(e, local, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return nft.Render(rs)
}

// agentProc is the agent running as a child process (this test binary
// re-executed) in the test's network namespace.
type agentProc struct {
	cmd *exec.Cmd
	log *testutil.SyncBuffer
}

func startAgent(t *testing.T, ns netns.NsHandle, dir string) *agentProc {
	t.Helper()
	// A file of its own for the child's fd 3 (os.NewFile on the handle
	// would close it when collected).
	nsFile, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", int(ns)))
	if err != nil {
		t.Fatal(err)
	}
	defer nsFile.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--",
		"agent", "--node-name", "node-0", "--netns", "/proc/self/fd/3", "--metrics-address", "",
		"--poll-interval", "20ms", "--log-level", "debug", dir)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.ExtraFiles = []*os.File{nsFile}
	p := &agentProc{cmd: cmd, log: &testutil.SyncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	return p
}

// waitLog waits until the agent logged substr n times, and reports
// whether it did before exiting or a minute passing.
func (p *agentProc) waitLog(substr string, n int) bool {
	for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(2 * time.Millisecond) {
		if strings.Count(p.log.String(), substr) >= n {
			return true
		}
		if p.cmd.ProcessState != nil {
			return false
		}
	}
	return false
}

// transactionTime returns the duration of the agent's first nftables
// transaction, from its debug log.
func (p *agentProc) transactionTime(t *testing.T) time.Duration {
	t.Helper()
	_, rest, ok := strings.Cut(p.log.String(), `msg="nftables transaction"`)
	if ok {
		if _, d, ok := strings.Cut(rest, "duration="); ok {
			d, _, _ = strings.Cut(d, "\n")
			if dur, err := time.ParseDuration(strings.TrimSpace(d)); err == nil {
				return dur
			}
		}
	}
	t.Fatalf("no transaction in the agent's log:\n%s", tail(p.log.String()))
	return 0
}

// kill SIGKILLs the agent and reaps it.
func (p *agentProc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// readTable returns the nft text of bulkhead's table in ns, "" if absent.
// Nothing may change the table meanwhile: a read takes one netlink dump
// per object type, so a transaction in between can delete a set the dump
// of sets listed (ENOENT) or give a mix of two rulesets.
func readTable(t *testing.T, ns netns.NsHandle, table string) string {
	t.Helper()
	text, err := tryReadTable(ns, table)
	if err != nil {
		t.Fatalf("read table %s: %v", table, err)
	}
	return text
}

func tryReadTable(ns netns.NsHandle, table string) (string, error) {
	a, err := dataplane.New(dataplane.Config{NetNS: int(ns), Table: table})
	if err != nil {
		return "", err
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs, err := a.Read(ctx)
	if err != nil || rs == nil {
		return "", err
	}
	return nft.Render(rs), nil
}

// waitFor polls the table until it is want. The agent runs meanwhile, so
// a read that fails or sees a mix (see readTable) is only "not yet".
func waitFor(t *testing.T, ns netns.NsHandle, p *agentProc, want, what string) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 2*time.Minute {
		if got, err := tryReadTable(ns, nft.DefaultTable); err == nil && got == want {
			return time.Since(start)
		}
		if p.cmd.ProcessState != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: the agent did not converge to the expected ruleset; its log:\n%s", what, tail(p.log.String()))
	return 0
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// TestPrivilegedAgentKilledMidUpdate runs the agent as a process in a
// private network namespace and SIGKILLs it at random moments: while it
// applies a large change of the cluster, and while a restarted agent
// applies its first ruleset. After every kill the kernel's table must be
// exactly the ruleset before or after the change (nf_tables transactions
// are atomic, and the agent never splits one), and a restarted agent must
// converge to the ruleset of the manifests. A table of another owner in
// the namespace must come out untouched, and no other table may appear.
func TestPrivilegedAgentKilledMidUpdate(t *testing.T) {
	ns := netnstest.New(t)
	iterations := 6
	if testing.Short() {
		iterations = 2
	}

	// Someone else's table, which the agent must never touch.
	other, err := dataplane.New(dataplane.Config{NetNS: int(ns), Table: "other_owner"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	sentinel := &nft.Ruleset{Table: "other_owner", Chains: []nft.Chain{{Name: "input_filter", Hook: nft.HookInput, Priority: -5, Policy: nft.PolicyAccept,
		Rules: []nft.Rule{{Stmts: []nft.Stmt{nft.CtStateIn{States: nft.CtInvalid}, nft.VerdictDrop}, Comment: "not bulkhead's"}}}}}
	if err := other.Apply(context.Background(), sentinel); err != nil {
		t.Fatal(err)
	}
	sentinelText := readTable(t, ns, "other_owner")

	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.yaml")
	states := []synth.Config{
		{Pods: 3000, Policies: 600, AdminPolicies: 30, Seed: 1},
		{Pods: 3000, Policies: 600, AdminPolicies: 30, Seed: 2},
	}
	mtime := time.Now().Add(-time.Hour)
	write := func(i int) string {
		mtime = mtime.Add(time.Second)
		writeCluster(t, path, states[i%2], mtime)
		return expected(t, path)
	}
	cur := write(0)
	p := startAgent(t, ns, dir)
	full := waitFor(t, ns, p, cur, "first start")
	tx := p.transactionTime(t)
	t.Logf("first ruleset: %d bytes of nft text, applied %v after start; the transaction took %v",
		len(cur), full.Round(time.Millisecond), tx.Round(time.Millisecond))

	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	window := full + full/2
	outcome := map[string]int{}
	check := func(what string, prev, next string) {
		t.Helper()
		switch got := readTable(t, ns, nft.DefaultTable); got {
		case prev:
			outcome["before"]++
		case next:
			outcome["after"]++
		default:
			t.Fatalf("%s: the table is neither the ruleset before nor after the change:\n%s\nagent log:\n%s", what, firstLines(got, 30), tail(p.log.String()))
		}
	}
	// kill kills the agent at a random moment: within window of now on
	// odd iterations (reading, compiling or applying), during the
	// transaction on even ones (after the nth "applying ruleset").
	kill := func(i, nth int) {
		if i%2 == 1 {
			time.Sleep(time.Duration(r.Int64N(int64(window))))
		} else if p.waitLog(`msg="applying ruleset"`, nth) {
			time.Sleep(time.Duration(r.Int64N(int64(tx))))
			outcome["in transaction window"]++
		}
		p.kill()
	}
	for i := 1; i <= iterations; i++ {
		prev := cur
		cur = write(i)
		// Killed while following a change.
		kill(i, 2)
		check(fmt.Sprintf("iteration %d, killed during an update", i), prev, cur)

		// Killed while a restarted agent applies its first ruleset.
		p = startAgent(t, ns, dir)
		kill(i, 1)
		check(fmt.Sprintf("iteration %d, killed during a restart", i), prev, cur)

		// A restarted agent converges.
		p = startAgent(t, ns, dir)
		waitFor(t, ns, p, cur, fmt.Sprintf("iteration %d, restart", i))
	}
	p.kill()
	t.Logf("kills: %d found the ruleset before the change, %d after; %d aimed at a transaction",
		outcome["before"], outcome["after"], outcome["in transaction window"])

	if got := readTable(t, ns, "other_owner"); got != sentinelText {
		t.Errorf("another owner's table changed:\n%s\nwant:\n%s", got, sentinelText)
	}
	c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTables()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
	}
	slices.Sort(names)
	if want := []string{nft.DefaultTable, "other_owner"}; !slices.Equal(names, want) {
		t.Errorf("tables in the namespace: %v, want %v", names, want)
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}

// TestPrivilegedAgentOnce runs `bulkhead agent --once` in-process on a
// private network namespace: it applies the ruleset of the node's pods and
// exits 0; with an invalid manifest added it exits 1 and leaves the table
// as it was.
func TestPrivilegedAgentOnce(t *testing.T) {
	ns := netnstest.New(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.yaml")
	writeCluster(t, path, synth.Config{Pods: 200, Policies: 40, AdminPolicies: 3, Seed: 3}, time.Now())
	want := expected(t, path)
	nsPath := fmt.Sprintf("/proc/self/fd/%d", int(ns))
	code, stderr := runAgent(t, "--once", "--node-name", "node-0", "--netns", nsPath, "--log-format", "json", dir)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if got := readTable(t, ns, nft.DefaultTable); got != want {
		t.Errorf("table after --once differs from the compiled ruleset:\n%s", firstLines(got, 20))
	}
	if !strings.Contains(stderr, `"msg":"ruleset applied"`) {
		t.Errorf("no JSON record of the applied ruleset:\n%s", stderr)
	}

	bad := "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: default}\nspec: {podSelector: {matchLabels: {app: x}}, policyTypes: [Sideways]}\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stderr = runAgent(t, "--once", "--node-name", "node-0", "--netns", nsPath, dir)
	if code != 1 || !strings.Contains(stderr, "bad.yaml") || !strings.Contains(stderr, "keeping the ruleset in force") {
		t.Errorf("invalid manifests: exit %d, want 1 with the problem named:\n%s", code, stderr)
	}
	if got := readTable(t, ns, nft.DefaultTable); got != want {
		t.Error("invalid manifests changed the table")
	}
}
