package watch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/internal/cli"
	"github.com/bulkhead/bulkhead/internal/cli/clitest"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/internal/kubetest"
	"github.com/bulkhead/bulkhead/kube/livetest"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// lines is a writer that hands out what is written, line by line.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
	all bytes.Buffer
	ch  chan string
}

func newLines() *lines { return &lines{ch: make(chan string, 10000)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.buf.Write(p)
	for {
		i := bytes.IndexByte(l.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		l.ch <- string(l.buf.Next(i + 1)[:i])
	}
	return len(p), nil
}

// batch returns the lines that follow at once (within 300 ms of each
// other).
func (l *lines) batch() []string {
	var out []string
	for {
		select {
		case s := <-l.ch:
			out = append(out, s)
		case <-time.After(300 * time.Millisecond):
			return out
		}
	}
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

// next returns the next line that matches ok.
func (l *lines) next(t *testing.T, what string, ok func(string) bool) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case s := <-l.ch:
			if ok(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("no line %s; output so far:\n%s", what, l.String())
		}
	}
}

// running is a watch command running in-process.
type running struct {
	out, errOut *lines
	cancel      func()
	done        chan error
	onDoc       func(changeDoc) // sees every change document nextDoc reads
}

func startWatch(t *testing.T, args ...string) *running {
	t.Helper()
	r := &running{out: newLines(), errOut: newLines(), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	streams := cmdutil.IOStreams{In: strings.NewReader(""), Out: r.out, ErrOut: r.errOut}
	go func() { r.done <- cli.Run(ctx, append([]string{"watch"}, args...), streams) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("watch ended with %v; stderr:\n%s", err, r.errOut.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("watch did not stop")
		}
	})
	return r
}

type changeDoc struct {
	Kind    string
	Event   struct{ Op, Kind, Namespace, Name, Detail string }
	Changes []struct {
		Change, Src, Dst string
		Old, New         *struct{ Text string }
	}
}

// nextDoc waits for the change document of the given event.
func (r *running) nextDoc(t *testing.T, event string) changeDoc {
	t.Helper()
	var d changeDoc
	r.out.next(t, "for "+event, func(s string) bool {
		d = changeDoc{}
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			t.Fatalf("not JSON: %q: %v", s, err)
		}
		if r.onDoc != nil {
			r.onDoc(d)
		}
		e := d.Event
		got := strings.ToLower(e.Kind) + " " + e.Namespace + "/" + e.Name + " " + e.Op
		if e.Namespace == "" {
			got = strings.ToLower(e.Kind) + " " + e.Name + " " + e.Op
		}
		return got == event
	})
	return d
}

// changeSet formats the changes between endpoints of namespace ns; the
// ones to and from external ranges depend on every pod IP of the shared
// cluster.
func changeSet(d changeDoc, ns string) []string {
	var out []string
	for _, c := range d.Changes {
		if !strings.HasPrefix(c.Src, ns+"/") || !strings.HasPrefix(c.Dst, ns+"/") {
			continue
		}
		s := c.Change + " " + c.Src + " -> " + c.Dst
		if c.New != nil {
			s += " " + c.New.Text
		}
		out = append(out, s)
	}
	return out
}

const podYAML = `apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {app: %s}}
spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 80}]}]}
`

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var servingRe = regexp.MustCompile(`serving (http://\S+) `)

// TestWatchJSONStream follows pod and policy changes in a namespace, as
// a JSON stream, and checks each change document, the HTTP API against
// a fresh `analyze` of the cluster, and the metrics.
func TestWatchJSONStream(t *testing.T) {
	env := kubetest.Shared(t)
	ns := env.Namespace(t, map[string]string{"team": "x"})
	env.Apply(t, ns, fmt.Sprintf(podYAML, "a", "a"))
	env.SetPodIPs(t, ns, "a", "10.99.0.1")

	r := startWatch(t, "--kubeconfig", env.Kubeconfig, "-o", "json", "-n", ns, "--listen", "127.0.0.1:0")
	started := r.out.next(t, "WatchStarted", func(string) bool { return true })
	var st struct {
		Kind, Cluster string
		Endpoints     int
	}
	if err := json.Unmarshal([]byte(started), &st); err != nil || st.Kind != "WatchStarted" || !strings.Contains(st.Cluster, kubetest.ContextName) || st.Endpoints < 1 {
		t.Fatalf("first document: %s (%v)", started, err)
	}
	m := servingRe.FindStringSubmatch(r.errOut.next(t, "serving", func(s string) bool { return servingRe.MatchString(s) }))
	base := m[1]
	_, initial := get(t, base+"/connectivity?namespace="+ns)
	replay := connsOf(t, initial)
	var docs []changeDoc
	r.onDoc = func(d changeDoc) { docs = append(docs, d) }

	// A new pod: everything is allowed, both ways.
	env.Apply(t, ns, fmt.Sprintf(podYAML, "b", "b"))
	d := r.nextDoc(t, "pod "+ns+"/b added")
	want := []string{"added " + ns + "/a -> " + ns + "/b all", "added " + ns + "/b -> " + ns + "/a all"}
	if diff := cmp.Diff(want, changeSet(d, ns)); diff != "" {
		t.Errorf("pod b added (-want +got):\n%s", diff)
	}

	// A policy isolates b.
	env.Apply(t, ns, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b-in}\nspec: {podSelector: {matchLabels: {app: b}}, policyTypes: [Ingress]}\n")
	d = r.nextDoc(t, "networkpolicy "+ns+"/b-in added")
	if diff := cmp.Diff([]string{"removed " + ns + "/a -> " + ns + "/b"}, changeSet(d, ns)); diff != "" {
		t.Errorf("policy added (-want +got):\n%s", diff)
	}

	// It lets a in on its named port.
	env.Apply(t, ns, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b-in}\nspec: {podSelector: {matchLabels: {app: b}}, policyTypes: [Ingress], ingress: [{from: [{podSelector: {matchLabels: {app: a}}}], ports: [{port: http}]}]}\n")
	d = r.nextDoc(t, "networkpolicy "+ns+"/b-in updated")
	if diff := cmp.Diff([]string{"added " + ns + "/a -> " + ns + "/b TCP 80"}, changeSet(d, ns)); diff != "" || d.Event.Detail != "spec" {
		t.Errorf("policy updated (detail %q) (-want +got):\n%s", d.Event.Detail, diff)
	}

	// The HTTP API answers as analyze and explain do on a fresh read.
	code, body := get(t, base+"/connectivity?namespace="+ns)
	fresh, errOut, exit := clitest.Run(t, "", "analyze", "--kubeconfig", env.Kubeconfig, "-n", ns, "-o", "json")
	if code != 200 || exit != 0 {
		t.Fatalf("/connectivity: %d %s; analyze: exit %d %s", code, body, exit, errOut)
	}
	if diff := cmp.Diff(fresh, body); diff != "" {
		t.Errorf("/connectivity differs from analyze on a fresh read (-analyze +watch):\n%s", diff)
	}
	code, body = get(t, base+"/explain?from="+ns+"/a&to="+ns+"/b&port=80/TCP")
	var dec struct{ Allowed bool }
	if err := json.Unmarshal([]byte(body), &dec); code != 200 || err != nil || !dec.Allowed {
		t.Errorf("/explain a->b 80/TCP: %d %s", code, body)
	}
	if code, body = get(t, base+"/explain?from="+ns+"/nope&to="+ns+"/b"); code != 404 || !strings.Contains(body, "no endpoint") {
		t.Errorf("/explain of an unknown endpoint: %d %s", code, body)
	}
	if code, body = get(t, base+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz: %d %s", code, body)
	}
	code, body = get(t, base+"/metrics")
	for _, want := range []string{
		`bulkhead_watch_events_total{kind="NetworkPolicy",op="updated"} 1`,
		`bulkhead_watch_connection_changes_total{change="removed"}`,
		`bulkhead_watch_latency_seconds_count{stage="printed"}`,
		`bulkhead_watch_synced 1`,
		`bulkhead_watch_healthy 1`,
		`bulkhead_connections `,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// Deleting the pod removes its connections.
	if err := env.Clientset(t).CoreV1().Pods(ns).Delete(context.Background(), "b", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	d = r.nextDoc(t, "pod "+ns+"/b deleted")
	want = []string{"removed " + ns + "/a -> " + ns + "/b", "removed " + ns + "/b -> " + ns + "/a"}
	if diff := cmp.Diff(want, changeSet(d, ns)); diff != "" {
		t.Errorf("pod b deleted (-want +got):\n%s", diff)
	}

	// The stream, applied to the first analysis, gives the analysis of
	// the cluster now: every change was printed, and only changes.
	for _, d := range docs {
		for _, c := range d.Changes {
			k := c.Src + " -> " + c.Dst
			switch c.Change {
			case "removed":
				if _, ok := replay[k]; !ok {
					t.Errorf("stream removes %s, which was not there", k)
				}
				delete(replay, k)
			case "added":
				if _, ok := replay[k]; ok {
					t.Errorf("stream adds %s, which was there", k)
				}
				replay[k] = c.New.Text
			default:
				replay[k] = c.New.Text
			}
		}
	}
	final, _, _ := clitest.Run(t, "", "analyze", "--kubeconfig", env.Kubeconfig, "-n", ns, "-o", "json")
	if diff := cmp.Diff(connsOf(t, final), replay); diff != "" {
		t.Errorf("the first analysis with the stream applied differs from a fresh one (-fresh +replayed):\n%s", diff)
	}
}

// connsOf reads the connections of an analyze -o json document.
func connsOf(t *testing.T, doc string) map[string]string {
	t.Helper()
	var a struct {
		Connections []struct {
			Src, Dst string
			Allowed  struct{ Text string }
		}
	}
	if err := json.Unmarshal([]byte(doc), &a); err != nil {
		t.Fatalf("not an analysis: %v: %s", err, doc)
	}
	m := map[string]string{}
	for _, c := range a.Connections {
		m[c.Src+" -> "+c.Dst] = c.Allowed.Text
	}
	return m
}

// TestWatchText checks the human output: the event, then its changes.
func TestWatchText(t *testing.T) {
	env := kubetest.Shared(t)
	ns := env.Namespace(t, nil)
	env.Apply(t, ns, fmt.Sprintf(podYAML, "a", "a"))
	r := startWatch(t, "--kubeconfig", env.Kubeconfig, "-n", ns)
	r.errOut.next(t, "watching", func(s string) bool {
		return strings.HasPrefix(s, "watching context ") && strings.HasSuffix(s, "changes follow")
	})

	env.Apply(t, ns, fmt.Sprintf(podYAML, "b", "b"))
	head := r.out.next(t, "the event line", func(string) bool { return true })
	if !regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3} pod ` + ns + `/b added$`).MatchString(head) {
		t.Errorf("event line %q", head)
	}
	got := r.out.batch()
	for _, want := range []string{"  + " + ns + "/a -> " + ns + "/b  all", "  + " + ns + "/b -> " + ns + "/a  all"} {
		if !slices.Contains(got, want) {
			t.Errorf("changes lack %q:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("changes are not in order:\n%s", strings.Join(got, "\n"))
	}

	// A label change that changes no connection is shown as such.
	env.Apply(t, ns, "apiVersion: v1\nkind: Pod\nmetadata: {name: b, labels: {app: b, tier: web}}\nspec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 80}]}]}\n")
	r.out.next(t, "the label change", func(s string) bool { return strings.HasSuffix(s, "pod "+ns+"/b updated (labels +tier=web)") })
	if s := r.out.next(t, "no change", func(string) bool { return true }); s != "  (no connection changed)" {
		t.Errorf("after a label change: %q", s)
	}

	// With -n, another namespace's events show only their changes from
	// or to the namespace, and not at all without any.
	other := env.Namespace(t, nil)
	env.Apply(t, other, fmt.Sprintf(podYAML, "c", "c"))
	r.out.next(t, "pod c", func(s string) bool { return strings.HasSuffix(s, "pod "+other+"/c added") })
	for _, line := range r.out.batch() {
		if !strings.Contains(line, " "+ns+"/") {
			t.Errorf("-n %s let through %q", ns, line)
		}
	}
	cs := env.Clientset(t)
	o, err := cs.CoreV1().Namespaces().Get(context.Background(), other, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o.Labels["quiet"] = "yes"
	if _, err := cs.CoreV1().Namespaces().Update(context.Background(), o, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Apply(t, ns, fmt.Sprintf(podYAML, "d", "d"))
	s := r.out.next(t, "pod d", func(s string) bool { return !strings.HasPrefix(s, "  ") })
	if !strings.HasSuffix(s, "pod "+ns+"/d added") {
		t.Errorf("-n %s let through %q", ns, s)
	}
}

// TestWatchErrors: usage errors, and a user RBAC grants nothing.
func TestWatchErrors(t *testing.T) {
	env := kubetest.Shared(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"watch", "some/path"}, "unknown command"},
		{[]string{"watch", "--kubeconfig", env.Kubeconfig, "-o", "csv"}, "csv"},
		{[]string{"watch", "--kubeconfig", env.Kubeconfig, "--listen", "127.0.0.1:99999"}, "--listen"},
		{[]string{"watch", "--kubeconfig", env.UserKubeconfig(t, "eve")}, "cannot list namespaces in every namespace"},
	} {
		_, errOut, code := clitest.Run(t, "", tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestWatchPolicyKindInstalled installs the AdminNetworkPolicy CRD while
// watch runs: watch says so, watches again, and then shows what a policy
// of the new kind does.
func TestWatchPolicyKindInstalled(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	reinstall := livetest.RemoveCRD(t, env, "policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies")
	ns := env.Namespace(t, nil)
	env.Apply(t, ns, fmt.Sprintf(podYAML, "a", "a"))
	env.Apply(t, ns, fmt.Sprintf(podYAML, "b", "b"))
	r := startWatch(t, "--kubeconfig", env.Kubeconfig, "-n", ns, "--probe-interval", "50ms")
	r.errOut.next(t, "watching", func(s string) bool { return strings.HasSuffix(s, "changes follow") })

	reinstall()
	line := r.out.next(t, "the kinds' change", func(s string) bool { return strings.Contains(s, "customresourcedefinition policy kinds updated") })
	if !strings.Contains(line, "adminnetworkpolicies.policy.networking.k8s.io/v1alpha1") {
		t.Errorf("the kinds' change does not name the new kind: %q", line)
	}
	if s := r.out.next(t, "no change", func(string) bool { return true }); s != "  (no connection changed)" {
		t.Errorf("after installing a kind with no object: %q", s)
	}

	env.Apply(t, "", `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: `+ns+`-isolate-b}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: `+ns+`}}, podSelector: {matchLabels: {app: b}}}}
  ingress:
  - {name: deny-all, action: Deny, from: [{namespaces: {}}]}
`)
	r.out.next(t, "the policy", func(s string) bool { return strings.HasSuffix(s, "adminnetworkpolicy "+ns+"-isolate-b added") })
	if got := r.out.batch(); !slices.Contains(got, "  - "+ns+"/a -> "+ns+"/b  all") {
		t.Errorf("the new kind's policy did not remove a -> b:\n%s", strings.Join(got, "\n"))
	}
}
