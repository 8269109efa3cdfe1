//go:build linux

package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bulkhead/bulkhead/eval"
	cliagent "github.com/bulkhead/bulkhead/internal/cli/agent"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/internal/kubetest"
	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
	"github.com/bulkhead/bulkhead/kube"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
)

// TestPrivilegedAgentLive runs `bulkhead agent --kubeconfig` against a
// real kube-apiserver (internal/kubetest) and a private network
// namespace, then changes the cluster: a pod added, a policy edited, a pod
// deleted. After each change the kernel's table must become the ruleset
// compiled from a fresh read of the cluster, reached through the agent's
// incremental path.
func TestPrivilegedAgentLive(t *testing.T) {
	netnstest.RequireRoot(t)
	env := kubetest.Shared(t)
	netNS := netnstest.New(t)
	ns := env.Namespace(t, map[string]string{"team": "shop"})
	node := "node-" + ns // no other test's pods are on it

	pod := func(name, app string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {app: %s}}
spec:
  nodeName: %s
  containers: [{name: main, image: registry.example/x, ports: [{name: http, containerPort: 8080}]}]
`, name, app, node)
	}
	env.Apply(t, ns, pod("web-1", "web")+"---\n"+pod("client-1", "client")+`---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: http}]
`)
	env.SetPodIPs(t, ns, "web-1", "10.77.0.1")
	env.SetPodIPs(t, ns, "client-1", "10.77.0.2")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs testutil.SyncBuffer
	done := make(chan int)
	go func() {
		streams := cmdutil.IOStreams{Out: &bytes.Buffer{}, ErrOut: &logs}
		cmd := cliagent.NewCommand(streams, slog.New(slog.DiscardHandler))
		cmd.SetArgs([]string{"--node-name", node, "--kubeconfig", env.UserKubeconfig(t, "bulkhead-admin", "system:masters"),
			"--netns", fmt.Sprintf("/proc/self/fd/%d", int(netNS)), "--metrics-address", "", "--resync", "0"})
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		done <- cmdutil.ExitCode(cmd.ExecuteContext(ctx), &logs)
	}()

	converge := func(step string) {
		t.Helper()
		var want, got string
		for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(50 * time.Millisecond) {
			// The agent may be applying: a failed read is "not yet".
			var err error
			want = liveExpected(t, env, node)
			if got, err = tryReadTable(netNS, nft.DefaultTable); err == nil && got == want && want != "" {
				return
			}
		}
		t.Fatalf("%s: the table did not become the compiled ruleset; got:\n%s\nwant:\n%s\nagent log:\n%s",
			step, firstLines(got, 40), firstLines(want, 40), tail(logs.String()))
	}
	converge("start")

	env.Apply(t, ns, pod("client-2", "client"))
	env.SetPodIPs(t, ns, "client-2", "10.77.0.3")
	converge("pod added")

	env.Apply(t, ns, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: http}, {port: 9090, protocol: TCP}]
`)
	converge("policy edited")

	if err := env.Clientset(t).CoreV1().Pods(ns).Delete(context.Background(), "client-1", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	converge("pod deleted")

	cancel()
	if code := <-done; code != 0 {
		t.Errorf("agent exited %d:\n%s", code, tail(logs.String()))
	}
	log := logs.String()
	for _, s := range []string{`msg="ruleset applied" cause="cluster read"`, `cause="pod ` + ns + `/client-2 updated (IPs none -> 10.77.0.3)"`,
		`cause="networkpolicy ` + ns + `/web updated (spec)"`, `msg="chain rewritten (its policies changed)"`, `cause="pod ` + ns + `/client-1 deleted"`} {
		if !strings.Contains(log, s) {
			t.Errorf("agent log lacks %q:\n%s", s, tail(log))
		}
	}
}

// liveExpected reads the cluster afresh and compiles node's ruleset.
func liveExpected(t *testing.T, env *kubetest.Env, node string) string {
	t.Helper()
	res, err := kube.ForConfig(env.Config()).Read(context.Background(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := eval.New(res.Snapshot, eval.Options{})
	var local []*model.Endpoint
	for _, ep := range e.Endpoints() {
		if ep.Kind == model.EndpointPod && ep.NodeName == node {
			local = append(local, ep)
		}
	}
	rs, err := compile.Node(e, local, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return nft.Render(rs)
}
