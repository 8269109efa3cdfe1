package diff

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

// revRange is a parsed --git value.
type revRange struct {
	old, new string // new "" is the working tree
}

// parseRevRange parses "A..B", "A...B" (from the merge base of A and B to
// B, as git diff reads it) and "A" (A against the working tree).
func parseRevRange(ctx context.Context, dir, s string) (revRange, error) {
	if s == "" {
		return revRange{}, errors.New("empty revision range")
	}
	if a, b, ok := strings.Cut(s, "..."); ok {
		if a == "" || b == "" {
			return revRange{}, fmt.Errorf("%q: want A...B", s)
		}
		base, err := git(ctx, dir, nil, "merge-base", a, b)
		if err != nil {
			return revRange{}, err
		}
		return revRange{strings.TrimSpace(string(base)), b}, nil
	}
	if a, b, ok := strings.Cut(s, ".."); ok {
		if a == "" || b == "" {
			return revRange{}, fmt.Errorf("%q: want A..B", s)
		}
		return revRange{a, b}, nil
	}
	return revRange{old: s}, nil
}

// git runs git in dir and returns its standard output; a failure carries
// git's own message.
func git(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return out.Bytes(), nil
}

// gitTree is the manifests of some paths at one revision, written to a
// temporary directory so that the manifest loader reads them as it reads
// any directory, and relabelled "REV:path" in every message.
type gitTree struct {
	rev   string
	tmp   string
	paths []string // the paths under tmp to load
	files int
}

// checkout writes the manifest files (*.yaml, *.yml, *.json) under paths
// at rev to a temporary directory. Paths are relative to dir, as git
// reads them there. A path that does not exist at rev contributes nothing.
func checkout(ctx context.Context, dir, rev string, paths []string) (*gitTree, error) {
	if _, err := git(ctx, dir, nil, "rev-parse", "--verify", "--quiet", rev+"^{commit}"); err != nil {
		return nil, fmt.Errorf("--git: %q is not a commit in %s", rev, dir)
	}
	for _, p := range paths {
		if filepath.IsAbs(p) || p == ".." || strings.HasPrefix(filepath.Clean(p), ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("--git: path %q: give paths inside the current directory, relative to it", p)
		}
	}
	tmp, err := os.MkdirTemp("", "bulkhead-diff-")
	if err != nil {
		return nil, err
	}
	t := &gitTree{rev: rev, tmp: tmp}
	args := append([]string{"ls-tree", "-r", "-z", rev, "--"}, paths...)
	out, err := git(ctx, dir, nil, args...)
	if err != nil {
		t.Close()
		return nil, err
	}
	type blob struct{ id, path string }
	var blobs []blob
	for _, rec := range bytes.Split(out, []byte{0}) {
		meta, path, ok := bytes.Cut(rec, []byte{'\t'})
		if !ok {
			continue
		}
		f := strings.Fields(string(meta)) // mode type id
		if len(f) != 3 || f[1] != "blob" || !manifestFile(string(path)) {
			continue
		}
		blobs = append(blobs, blob{f[2], string(path)})
	}
	// One git process reads every blob.
	var req bytes.Buffer
	for _, b := range blobs {
		req.WriteString(b.id + "\n")
	}
	if len(blobs) > 0 {
		data, err := git(ctx, dir, &req, "cat-file", "--batch")
		if err != nil {
			t.Close()
			return nil, err
		}
		r := bufio.NewReader(bytes.NewReader(data))
		for _, b := range blobs {
			header, err := r.ReadString('\n')
			if err != nil {
				t.Close()
				return nil, fmt.Errorf("git cat-file: %w", err)
			}
			f := strings.Fields(header)
			if len(f) != 3 {
				t.Close()
				return nil, fmt.Errorf("git cat-file: unexpected %q", header)
			}
			n, err := strconv.Atoi(f[2])
			if err != nil {
				t.Close()
				return nil, fmt.Errorf("git cat-file: unexpected %q", header)
			}
			content := make([]byte, n+1) // and the newline after it
			if _, err := io.ReadFull(r, content); err != nil {
				t.Close()
				return nil, fmt.Errorf("git cat-file: %w", err)
			}
			dst := filepath.Join(tmp, filepath.FromSlash(b.path))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Close()
				return nil, err
			}
			if err := os.WriteFile(dst, content[:n], 0o644); err != nil {
				t.Close()
				return nil, err
			}
			t.files++
		}
	}
	for _, p := range paths {
		if q := filepath.Join(tmp, p); exists(q) {
			t.paths = append(t.paths, q)
		}
	}
	return t, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func manifestFile(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Close removes the temporary directory.
func (t *gitTree) Close() { os.RemoveAll(t.tmp) }

// load reads the checked-out manifests and names every source "REV:path".
func (t *gitTree) load() *manifest.Result {
	if len(t.paths) == 0 {
		res := manifest.LoadBytes(t.rev+":", nil, manifest.Options{})
		return res
	}
	res, err := manifest.Load(t.paths, nil, manifest.Options{})
	if err != nil {
		// The files were just written; an unreadable one is a problem.
		b := manifest.NewBuilder(manifest.Options{})
		b.AddProblem(model.Problem{Source: model.Source{File: t.rev + ":"}, Severity: model.SeverityError, Msg: err.Error()})
		return &manifest.Result{Snapshot: b.Snapshot()}
	}
	t.relabel(res)
	return res
}

// relabel replaces the temporary directory in every source with "REV:".
func (t *gitTree) relabel(res *manifest.Result) {
	prefix := t.tmp + string(filepath.Separator)
	fix := func(s *model.Source) {
		if rest, ok := strings.CutPrefix(s.File, prefix); ok {
			s.File = t.rev + ":" + filepath.ToSlash(rest)
		}
	}
	snap := res.Snapshot
	for _, ns := range snap.Namespaces {
		fix(&ns.Source)
	}
	for _, ep := range snap.Endpoints {
		fix(&ep.Source)
	}
	for _, n := range snap.Nodes {
		fix(&n.Source)
	}
	for _, p := range snap.Policies {
		fix(&p.Source)
	}
	for i := range snap.SkippedObjects {
		fix(&snap.SkippedObjects[i])
	}
	for i := range snap.Problems {
		fix(&snap.Problems[i].Source)
	}
	for i := range res.Objects {
		fix(&res.Objects[i].Source)
	}
	for i := range res.Files {
		if rest, ok := strings.CutPrefix(res.Files[i], prefix); ok {
			res.Files[i] = t.rev + ":" + filepath.ToSlash(rest)
		}
	}
}
