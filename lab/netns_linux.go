//go:build linux

package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NetnsDir is where named network namespaces are bind-mounted, as
// iproute2 does, so that `ip netns` lists the lab's namespaces and Cleanup
// finds them after a crash.
const NetnsDir = "/run/netns"

// RunIn runs fn on an OS thread switched into network namespace ns and
// returns its error. Sockets fn opens and netlink or nftables connections
// it dials stay in ns after RunIn returns; goroutines fn starts do not run
// in ns. fn must not switch namespaces itself.
//
// fn runs on a fresh goroutine locked to its thread, so the caller's
// goroutine never changes namespace. When the thread cannot be switched
// back to its original namespace, it stays locked and the Go runtime
// discards it when the goroutine ends, so no other goroutine ever runs in
// ns by accident. A panic in fn is re-raised in the caller.
func RunIn(ns netns.NsHandle, fn func() error) error {
	type result struct {
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// No deferred unlock: only a thread that is back in its own
		// namespace may return to the pool.
		origin, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("netns: current namespace: %w", err)}
			return
		}
		defer origin.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("netns: enter %v: %w", ns, err)}
			return
		}
		var r result
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.panic = p
				}
			}()
			r.err = fn()
		}()
		if err := netns.Set(origin); err == nil {
			runtime.UnlockOSThread()
		}
		done <- r
	}()
	r := <-done
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// createNamed creates a new network namespace bind-mounted at
// NetnsDir/name, as `ip netns add` does, and returns a handle on it. It
// fails when the name is taken. The namespace is created on a throwaway
// thread, so no thread of the process is ever left in it.
func createNamed(name string) (netns.NsHandle, error) {
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		return netns.None(), err
	}
	path := filepath.Join(NetnsDir, name)
	type result struct {
		h   netns.NsHandle
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("netns %s: unshare: %w", name, err)}
			return
		}
		f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
		if err != nil {
			done <- result{err: fmt.Errorf("netns %s: %w", name, err)}
			return
		}
		f.Close()
		if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			os.Remove(path)
			done <- result{err: fmt.Errorf("netns %s: bind mount: %w", name, err)}
			return
		}
		h, err := netns.GetFromPath(path)
		if err != nil {
			unix.Unmount(path, unix.MNT_DETACH)
			os.Remove(path)
			done <- result{err: fmt.Errorf("netns %s: open: %w", name, err)}
			return
		}
		done <- result{h: h}
	}()
	r := <-done
	return r.h, r.err
}

// deleteNamed removes the bind mount of namespace name. The kernel frees
// the namespace, with every link in it, once nothing else holds it: no
// open handle, socket or process.
func deleteNamed(name string) error {
	path := filepath.Join(NetnsDir, name)
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("netns %s: unmount: %w", name, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("netns %s: %w", name, err)
	}
	return nil
}

// List returns the names of the namespaces under NetnsDir that start with
// prefix, sorted.
func List(prefix string) ([]string, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// Cleanup deletes every namespace under NetnsDir whose name starts with
// prefix, such as a crashed lab left behind, and returns their names.
// Links, addresses and routes go with their namespaces. Cleanup never
// touches anything else; it refuses a prefix that ValidatePrefix rejects.
// Namespaces whose listeners still run in another process live on until
// that process exits, but no longer have names.
func Cleanup(prefix string) ([]string, error) {
	names, err := List(prefix)
	if err != nil {
		return nil, err
	}
	var errs []error
	var removed []string
	for _, n := range names {
		if err := deleteNamed(n); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, n)
	}
	return removed, errors.Join(errs...)
}

// writeSysctl writes value to the sysctl key ("net.ipv4.ip_forward") of
// the calling thread's network namespace. Call it inside RunIn.
func writeSysctl(key, value string) error {
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

// readSysctl reads sysctl key of the calling thread's network namespace.
func readSysctl(key string) (string, error) {
	b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(key, ".", "/"))
	return strings.TrimSpace(string(b)), err
}
