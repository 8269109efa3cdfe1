package kubetest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables that steer where the binaries are found.
const (
	// EnvSkip, set to 1, makes every test that needs the apiserver skip.
	EnvSkip = "BULKHEAD_SKIP_APISERVER"
	// EnvBinDir names a directory holding kube-apiserver and etcd, overriding
	// the build.sh cache.
	EnvBinDir = "BULKHEAD_TESTENV_BIN"
	// EnvCache is the cache root build.sh writes to (same variable as build.sh).
	EnvCache = "BULKHEAD_TESTENV_CACHE"
)

// versionsFile is where build.sh and this package read the versions from,
// relative to the repository root.
const versionsFile = "hack/testenv/versions.env"

// binaries are the paths of the two programs a test environment runs.
type binaries struct {
	apiserver, etcd string
}

// missingBinariesError reports binaries that build.sh has not built yet.
type missingBinariesError struct {
	missing []string
}

func (e *missingBinariesError) Error() string {
	return fmt.Sprintf("kubetest: %s not found: run hack/testenv/build.sh "+
		"(about 11 minutes cold on 2 cores, cached under $HOME/.cache/bulkhead/testenv afterwards), "+
		"or set %s=1 to skip tests that need a live apiserver",
		strings.Join(e.missing, " and "), EnvSkip)
}

// findBinaries locates kube-apiserver and etcd: in $BULKHEAD_TESTENV_BIN if set,
// otherwise in the directory build.sh fills for the versions in versions.env.
func findBinaries() (binaries, error) {
	dir := os.Getenv(EnvBinDir)
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			return binaries{}, err
		}
		data, err := os.ReadFile(filepath.Join(root, versionsFile))
		if err != nil {
			return binaries{}, err
		}
		vers, err := parseVersions(data)
		if err != nil {
			return binaries{}, fmt.Errorf("%s: %w", versionsFile, err)
		}
		cache := os.Getenv(EnvCache)
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return binaries{}, fmt.Errorf("kubetest: locate cache: %w", err)
			}
			cache = filepath.Join(home, ".cache", "bulkhead", "testenv")
		}
		dir = binDir(cache, vers)
	}
	b := binaries{apiserver: filepath.Join(dir, "kube-apiserver"), etcd: filepath.Join(dir, "etcd")}
	var missing []string
	for _, p := range []string{b.apiserver, b.etcd} {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return b, &missingBinariesError{missing: missing}
	}
	return b, nil
}

// binDir mirrors build.sh's cache layout.
func binDir(cache string, vers map[string]string) string {
	return filepath.Join(cache, "kube-"+vers["KUBE_VERSION"]+"_etcd-"+vers["ETCD_VERSION"], "bin")
}

// parseVersions reads the KEY=VALUE lines of versions.env, which build.sh
// sources as shell. It requires KUBE_VERSION and ETCD_VERSION.
func parseVersions(data []byte) (map[string]string, error) {
	vers := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || v == "" || strings.ContainsAny(v, " \t'\"$") {
			return nil, fmt.Errorf("line %d: want KEY=VALUE without quotes or spaces, got %q", n, line)
		}
		vers[k] = v
	}
	var errs []error
	for _, k := range []string{"KUBE_VERSION", "ETCD_VERSION"} {
		if vers[k] == "" {
			errs = append(errs, fmt.Errorf("%s is not set", k))
		}
	}
	return vers, errors.Join(errs...)
}

// repoRoot finds the repository root by walking up from the working directory,
// which go test sets to the package directory, to the first directory holding
// hack/testenv/versions.env.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, versionsFile)); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("kubetest: no %s in %s or any parent; run tests from inside the bulkhead repository or set %s", versionsFile, wd, EnvBinDir)
		}
		dir = parent
	}
}
