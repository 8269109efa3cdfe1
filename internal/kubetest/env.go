package kubetest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ContextName is the name of the cluster, user and context in the kubeconfig
// files an Env writes.
const ContextName = "bulkhead-kubetest"

// AdminUser is the user name of Env.Config. It is in group system:masters,
// which RBAC never denies.
const AdminUser = "kubetest-admin"

// EnvKeep, set to 1, keeps an Env's directory (logs, certificates, etcd data)
// after it stops, and logs its path.
const EnvKeep = "BULKHEAD_KUBETEST_KEEP"

// Timeouts for starting. A warm start takes about 5 s on 2 cores; the margin is
// for machines busy with other test binaries.
const (
	etcdTimeout      = 30 * time.Second
	apiserverTimeout = 90 * time.Second
	crdTimeout       = 60 * time.Second
)

// Env is a running etcd and kube-apiserver on 127.0.0.1 with the
// network-policy-api CRDs installed. Its methods are safe for concurrent use by
// parallel tests.
type Env struct {
	// Dir holds the certificates, the kubeconfig, etcd's data and the logs
	// etcd.log and kube-apiserver.log. It is removed by Stop unless
	// BULKHEAD_KUBETEST_KEEP=1.
	Dir string
	// Kubeconfig is the path of a kubeconfig file for the admin user whose
	// current context is ContextName.
	Kubeconfig string
	// Host is the apiserver's URL, https://127.0.0.1:<port>.
	Host string

	ca       *authority
	admin    *rest.Config
	procs    []*process // in start order; stopped in reverse
	stopOnce sync.Once

	clientsOnce sync.Once
	clients     *clients
	clientsErr  error
}

// Start starts a fresh Env for one test and stops it when the test ends. It
// fails the test if the binaries are missing or the cluster does not come up,
// and skips it if BULKHEAD_SKIP_APISERVER=1.
//
// Starting takes about 5 s; a package with several tests should share one Env
// through Main and Shared instead.
func Start(t testing.TB) *Env {
	t.Helper()
	skipIfAsked(t)
	e, err := start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Error(err)
		}
	})
	return e
}

var shared struct {
	mu      sync.Mutex
	inMain  bool
	started bool
	env     *Env
	err     error
}

// Main runs a package's tests, typically from TestMain:
//
//	func TestMain(m *testing.M) { kubetest.Main(m) }
//
// and stops the Env that Shared started, if any, before exiting with the tests'
// status. It never starts an apiserver for a run that does not ask for one
// (go test -run with no matching test that calls Shared, say).
func Main(m *testing.M) {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	env := shared.env
	shared.mu.Unlock()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// Shared returns the package's shared Env, starting it on first use. Tests that
// share it must keep to namespaces from Env.Namespace and clean up the
// cluster-scoped objects they create (Env.Apply does). It requires Main in the
// package's TestMain, which stops the Env after the last test.
//
// If starting failed, every test that asks for the Env fails with the same
// error; with BULKHEAD_SKIP_APISERVER=1 they skip.
func Shared(t testing.TB) *Env {
	t.Helper()
	skipIfAsked(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		t.Fatal("kubetest.Shared needs kubetest.Main(m) in the package's TestMain, which stops the shared apiserver")
	}
	if !shared.started {
		shared.started = true
		shared.env, shared.err = start(context.Background())
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

func skipIfAsked(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvSkip) == "1" {
		t.Skipf("SKIPPING: %s=1 is set, so this test, which needs a live kube-apiserver, does not run", EnvSkip)
	}
}

// start brings up etcd and the apiserver, retrying when a freshly picked port
// was taken by someone else before the child bound it.
func start(ctx context.Context) (*Env, error) {
	bins, err := findBinaries()
	if err != nil {
		return nil, err
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	crds, err := readCRDs(filepath.Join(root, "hack", "testenv", "crds"))
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		e, retry, err := startOnce(ctx, bins)
		if err == nil {
			if err = e.installCRDs(ctx, crds); err == nil {
				return e, nil
			}
			err = errors.Join(err, e.Stop())
			return nil, err
		}
		if !retry || attempt == 3 {
			return nil, err
		}
	}
}

// startOnce makes one attempt; retry reports whether a port clash caused the
// failure.
func startOnce(ctx context.Context, bins binaries) (e *Env, retry bool, err error) {
	dir, err := os.MkdirTemp("", "kubetest-")
	if err != nil {
		return nil, false, err
	}
	e = &Env{Dir: dir}
	defer func() {
		if err != nil {
			if serr := e.Stop(); serr != nil {
				err = errors.Join(err, serr)
			}
		}
	}()

	ca, err := newAuthority()
	if err != nil {
		return e, false, err
	}
	e.ca = ca
	serving, err := ca.serving()
	if err != nil {
		return e, false, err
	}
	saKey, saPub, err := serviceAccountKey()
	if err != nil {
		return e, false, err
	}
	files := map[string][]byte{
		"ca.crt": ca.certPEM, "apiserver.crt": serving.certPEM, "apiserver.key": serving.keyPEM,
		"sa.key": saKey, "sa.pub": saPub,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return e, false, err
		}
	}

	ports, err := freePorts(3)
	if err != nil {
		return e, false, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	e.Host = "https://127.0.0.1:" + strconv.Itoa(ports[2])

	etcd, err := startProcess("etcd", bins.etcd, filepath.Join(dir, "etcd.log"),
		"--name=kubetest",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL,
		// A throwaway store does not need to survive a crash.
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	if err != nil {
		return e, false, err
	}
	e.procs = append(e.procs, etcd)
	if err := waitHTTP(ctx, etcd, http.DefaultClient, etcdURL+"/health", etcdTimeout); err != nil {
		return e, etcd.exited() && etcd.portInUse(), err
	}

	apiserver, err := startProcess("kube-apiserver", bins.apiserver, filepath.Join(dir, "kube-apiserver.log"),
		apiserverArgs(dir, etcdURL, ports[2])...)
	if err != nil {
		return e, false, err
	}
	e.procs = append(e.procs, apiserver)

	admin, err := e.userConfig(AdminUser, []string{"system:masters"})
	if err != nil {
		return e, false, err
	}
	e.admin = admin
	probe, err := httpClient(admin)
	if err != nil {
		return e, false, err
	}
	if err := waitHTTP(ctx, apiserver, probe, e.Host+"/readyz", apiserverTimeout); err != nil {
		return e, apiserver.exited() && apiserver.portInUse(), err
	}

	e.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(e.Kubeconfig, admin); err != nil {
		return e, false, err
	}
	return e, false, nil
}

// apiserverArgs are the kube-apiserver flags. Each one is here for a reason:
//
//   - --bind-address and --advertise-address keep the server on loopback.
//   - --endpoint-reconciler-type=none: there is no second master to agree with
//     and the default reconciler would keep rewriting the kubernetes Service's
//     endpoints to the loopback address.
//   - --disable-admission-plugins=ServiceAccount: that plugin rejects pods until
//     the controller manager (absent here) has created the namespace's
//     "default" ServiceAccount.
//   - --service-account-*: required at startup even with no service accounts in use.
//   - --client-ca-file: client certificates from the Env's CA authenticate as
//     CN=user, O=groups, which is how UserConfig makes non-admin users.
//   - --authorization-mode=RBAC: as in real clusters, so denials are real.
func apiserverArgs(dir, etcdURL string, port int) []string {
	return []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + filepath.Join(dir, "apiserver.crt"),
		"--tls-private-key-file=" + filepath.Join(dir, "apiserver.key"),
		"--client-ca-file=" + filepath.Join(dir, "ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=RBAC",
		// Privileged containers are allowed, as on most clusters: the posture
		// examples have them.
		"--allow-privileged=true",
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}
}

// waitHTTP polls url until it answers 200, the process exits or the timeout
// passes.
func waitHTTP(ctx context.Context, p *process, client *http.Client, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		last = err
		select {
		case <-p.done:
			return p.exitError()
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v (last error: %v); last lines of %s:\n%s",
				p.name, timeout, last, p.log, tail(p.log, 30))
		case <-tick.C:
		}
	}
}

// httpClient returns a plain HTTP client that authenticates like cfg, for
// probing /readyz before any API group is served.
func httpClient(cfg *rest.Config) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cfg.CAData) {
		return nil, errors.New("kubetest: bad CA certificate")
	}
	cert, err := tls.X509KeyPair(cfg.CertData, cfg.KeyData)
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		}},
	}, nil
}

// Stop stops the apiserver and etcd and removes Dir (unless
// BULKHEAD_KUBETEST_KEEP=1). It is safe to call more than once; Start and Main
// call it for you.
func (e *Env) Stop() error {
	var err error
	e.stopOnce.Do(func() {
		for i := len(e.procs) - 1; i >= 0; i-- {
			e.procs[i].stop(10 * time.Second)
		}
		if os.Getenv(EnvKeep) == "1" {
			fmt.Fprintf(os.Stderr, "kubetest: %s=1: keeping %s\n", EnvKeep, e.Dir)
			return
		}
		if rerr := os.RemoveAll(e.Dir); rerr != nil {
			err = fmt.Errorf("kubetest: remove %s: %w", e.Dir, rerr)
		}
	})
	return err
}

// Config returns a copy of the admin client configuration (user
// kubetest-admin in group system:masters).
func (e *Env) Config() *rest.Config {
	return rest.CopyConfig(e.admin)
}

// UserConfig returns a client configuration that authenticates as user in
// groups, with a client certificate from the Env's CA. The apiserver adds the
// group system:authenticated. Such a user can do nothing that RBAC does not
// grant, which makes it the way to test Forbidden errors.
func (e *Env) UserConfig(t testing.TB, user string, groups ...string) *rest.Config {
	t.Helper()
	cfg, err := e.userConfig(user, groups)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (e *Env) userConfig(user string, groups []string) (*rest.Config, error) {
	kp, err := e.ca.client(user, groups)
	if err != nil {
		return nil, fmt.Errorf("kubetest: client certificate for %s: %w", user, err)
	}
	return &rest.Config{
		Host: e.Host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: e.ca.certPEM, CertData: kp.certPEM, KeyData: kp.keyPEM,
		},
		// The default 5 QPS would make tests that create many objects slow.
		QPS:   500,
		Burst: 1000,
	}, nil
}

// UserKubeconfig writes a kubeconfig file for user in groups into the test's
// temporary directory and returns its path; its current context is
// ContextName. It is for testing commands that take --kubeconfig.
func (e *Env) UserKubeconfig(t testing.TB, user string, groups ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := writeKubeconfig(path, e.UserConfig(t, user, groups...)); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeKubeconfig writes cfg as a kubeconfig file with one cluster, user and
// context, all named ContextName.
func writeKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[ContextName] = &clientcmdapi.Cluster{
		Server: cfg.Host, CertificateAuthorityData: cfg.CAData,
	}
	kc.AuthInfos[ContextName] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData,
	}
	kc.Contexts[ContextName] = &clientcmdapi.Context{Cluster: ContextName, AuthInfo: ContextName}
	kc.CurrentContext = ContextName
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("kubetest: write kubeconfig: %w", err)
	}
	return nil
}
