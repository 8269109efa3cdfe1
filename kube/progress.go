package kube

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// counter counts the objects listed per kind, for the progress line.
type counter struct {
	mu        sync.Mutex
	kinds     []string
	counts    map[string]int
	remaining map[string]int64
}

func newCounter(rs []*resource) *counter {
	c := &counter{counts: map[string]int{}, remaining: map[string]int64{}}
	for _, r := range rs {
		c.kinds = append(c.kinds, r.gvk.Kind)
	}
	return c
}

func (c *counter) add(kind string, n int, remaining int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[kind] += n
	c.remaining[kind] = remaining
}

func (c *counter) reset(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[kind], c.remaining[kind] = 0, 0
}

// status formats "12,000 pods (of ~20,000), 150 namespaces, ...".
func (c *counter) status() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for _, k := range c.kinds {
		n := c.counts[k]
		if n == 0 {
			continue
		}
		s := thousands(n) + " " + plural(k, n)
		if r := c.remaining[k]; r > 0 {
			s += " (of ~" + thousands(n+int(r)) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func plural(kind string, n int) string {
	k := strings.ToLower(kind)
	if n == 1 {
		return k
	}
	return k + "s"
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// startProgress prints what status returns on opts.Progress once work
// has taken longer than a second, then every second on a terminal (one
// line rewritten in place) or every five seconds otherwise. The returned
// function stops it; with ok it prints the final status when anything was
// printed.
func startProgress(opts Options, what string, status func() string) (stop func(ok bool)) {
	if opts.Progress == nil {
		return func(bool) {}
	}
	delay, every := opts.progressDelay, opts.progressEvery
	if delay == 0 {
		delay = time.Second
	}
	if every == 0 {
		every = 5 * time.Second
		if opts.Terminal {
			every = time.Second
		}
	}
	start := time.Now()
	done := make(chan struct{})
	finished := make(chan bool, 1)
	printed := false
	line := func(final bool) {
		s := fmt.Sprintf("%s: %s (%.1fs)", what, status(), time.Since(start).Seconds())
		if final {
			s = fmt.Sprintf("%s: done: %s in %.1fs", what, status(), time.Since(start).Seconds())
		}
		if opts.Terminal {
			fmt.Fprintf(opts.Progress, "\r\033[K%s", s)
			if final {
				fmt.Fprintln(opts.Progress)
			}
		} else {
			fmt.Fprintln(opts.Progress, s)
		}
		printed = true
	}
	go func() {
		defer close(done)
		timer := time.NewTimer(delay)
		defer timer.Stop()
		for {
			select {
			case ok := <-finished:
				if printed {
					if ok {
						line(true)
					} else if opts.Terminal {
						fmt.Fprintln(opts.Progress)
					}
				}
				return
			case <-timer.C:
				line(false)
				timer.Reset(every)
			}
		}
	}()
	return func(ok bool) {
		finished <- ok
		<-done
	}
}
