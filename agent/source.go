package agent

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

// Source delivers the cluster's state to the agent.
//
// Run calls apply with the complete state first, then after every change,
// until ctx ends (and then returns nil); it never calls apply
// concurrently. When apply fails, Run calls it again later, with backoff,
// with the latest state and Resync set. It also calls it every resync
// period with the current state and Resync set, so that the agent checks
// the kernel for drift. package kube's Syncer has this contract; its
// Update maps field by field onto this one.
type Source interface {
	Run(ctx context.Context, apply func(context.Context, Update) error) error
}

// Update is one state of the cluster.
type Update struct {
	// Snapshot is the whole state; the agent never modifies it.
	Snapshot *model.Snapshot
	// Delta is what changed since the previous update the agent accepted;
	// nil when the source cannot say (first update, re-read), and then the
	// agent recomputes everything.
	Delta *Delta
	// Resync marks a repeated or retried state: the agent also checks that
	// the kernel still holds what it applied.
	Resync bool
	// Cause says what triggered the update, for logs: "start",
	// "changed: shop/policies.yaml", "pod shop/web-1 added".
	Cause string
	// Err, if set, means the state could not be read: the agent keeps the
	// ruleset in force and counts the error.
	Err error
}

// Delta lists the model items a change added (Old nil), removed (New nil)
// or changed.
type Delta struct {
	Endpoints  []EndpointChange
	Policies   []PolicyChange
	Namespaces []NamespaceChange
	Nodes      []NodeChange
}

// EndpointChange is an endpoint before and after.
type EndpointChange struct{ Old, New *model.Endpoint }

// PolicyChange is a policy before and after.
type PolicyChange struct{ Old, New *model.Policy }

// NamespaceChange is a namespace before and after.
type NamespaceChange struct{ Old, New *model.Namespace }

// NodeChange is a node before and after.
type NodeChange struct{ Old, New *model.Node }

// IsEmpty reports whether d changes nothing.
func (d *Delta) IsEmpty() bool {
	return d == nil || len(d.Endpoints) == 0 && len(d.Policies) == 0 && len(d.Namespaces) == 0 && len(d.Nodes) == 0
}

// ManifestSource reads the cluster's state from manifest files and
// directories (as `bulkhead analyze` does) and reads them again whenever
// a file under them changes: it compares the files' names, sizes and
// modification times every PollInterval (a watch library would do no
// better on the ConfigMap volumes manifests arrive on, whose updates are
// symlink swaps).
type ManifestSource struct {
	Paths []string
	// PollInterval is how often files are checked; 2 s when zero.
	PollInterval time.Duration
	// Resync is how often the current state is handed again; 5 min when
	// zero, never when negative.
	Resync time.Duration
	// MinBackoff and MaxBackoff bound the retries of a failed apply; 1 s
	// and 2 min when zero.
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
}

// Run implements Source.
func (s *ManifestSource) Run(ctx context.Context, apply func(context.Context, Update) error) error {
	poll := cmpOr(s.PollInterval, 2*time.Second)
	resync := cmpOr(s.Resync, 5*time.Minute)
	lo, hi := cmpOr(s.MinBackoff, time.Second), cmpOr(s.MaxBackoff, 2*time.Minute)
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	var (
		seen     [32]byte // fingerprint of the files last read
		current  Update   // last state read
		failed   bool     // apply failed on current
		backoff  = lo
		retryAt  time.Time
		resyncAt = time.Now().Add(resync)
		first    = true
	)
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		fp, files, err := fingerprint(s.Paths)
		switch {
		case err != nil && fp != seen:
			seen = fp
			current = Update{Err: err, Cause: "cannot read manifests"}
			failed = false
			_ = apply(ctx, current)
		case err == nil && (fp != seen || first):
			seen = fp
			cause := "start"
			if !first {
				cause = "manifests changed"
			}
			current = s.read(cause, files)
			failed = apply(ctx, current) != nil
			backoff, retryAt = lo, time.Now().Add(jitter(lo))
			resyncAt = time.Now().Add(resync)
			first = false
		case failed && !time.Now().Before(retryAt):
			u := current
			u.Resync = true
			failed = apply(ctx, u) != nil
			backoff = min(2*backoff, hi)
			retryAt = time.Now().Add(jitter(backoff))
			if failed {
				log.Debug("apply failed; retrying", "in", retryAt.Sub(time.Now()).Round(time.Millisecond))
			}
		case resync > 0 && !time.Now().Before(resyncAt) && current.Snapshot != nil:
			u := current
			u.Resync, u.Cause = true, "periodic resync"
			failed = apply(ctx, u) != nil
			resyncAt = time.Now().Add(resync)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// read loads the manifests into an update. Manifests without a single
// object are an error, not an empty cluster: a ConfigMap volume between two
// versions, a missing mount or an emptied directory would otherwise remove
// every rule, failing open. (A real cluster always has namespaces to
// declare.)
func (s *ManifestSource) read(cause string, files int) Update {
	res, err := manifest.Load(s.Paths, nil, manifest.Options{})
	if err != nil {
		return Update{Err: err, Cause: cause}
	}
	if len(res.Objects) == 0 && len(res.Skipped) == 0 && len(res.Unstructured) == 0 {
		return Update{Err: fmt.Errorf("no Kubernetes objects in %s (%d files)", strings.Join(s.Paths, ", "), files), Cause: cause}
	}
	return Update{Snapshot: res.Snapshot, Cause: fmt.Sprintf("%s (%d files)", cause, files)}
}

// fingerprint hashes the names, sizes and modification times of the
// files under paths, and counts the manifest files.
func fingerprint(paths []string) ([32]byte, int, error) {
	h := sha256.New()
	n := 0
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// Hidden files and directories are skipped, as manifest.Load
			// skips them. ConfigMap volumes hold symlinks into a hidden
			// ..data directory that an update swaps: stat follows them,
			// so the targets' times count.
			if path != root && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			info, err := os.Stat(path)
			if err != nil {
				return err
			}
			if info.IsDir() {
				return nil
			}
			n++
			fmt.Fprintf(h, "%s\x00%d\x00%d\x00", path, info.Size(), info.ModTime().UnixNano())
			return nil
		})
		if err != nil {
			return sha256Of(err.Error()), 0, err
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out, n, nil
}

func sha256Of(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// jitter adds up to 20% to d.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
