package watch

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/cli/analyze"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// handler serves the HTTP API. Answers are rendered while the engine is
// held (no change applies meanwhile) into a buffer, and written after, so
// a slow client never holds up the watch.
func (s *session) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /connectivity", s.connectivity)
	mux.HandleFunc("GET /explain", s.explain)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}

// read runs f on an engine of the current state, or answers 503 before
// the first sync.
func (s *session) read(w http.ResponseWriter, f func(e *eval.Engine) (*bytes.Buffer, int, error)) {
	e := s.engine()
	if e == nil {
		httpError(w, http.StatusServiceUnavailable, "not synced with the cluster yet")
		return
	}
	buf, code, err := f(e)
	if err != nil {
		httpError(w, code, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
}

// engine returns the HTTP API's engine, rebuilding it from the tracker's
// snapshot when a batch was applied since it was built.
func (s *session) engine() *eval.Engine {
	s.mu.RLock()
	t, v := s.tracker, s.version
	s.mu.RUnlock()
	if t == nil {
		return nil
	}
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.readEngine == nil || s.readVersion != v {
		s.readEngine, s.readVersion = eval.New(t.Snapshot(), s.opts), v
	}
	return s.readEngine
}

// connectivity answers as `analyze -o json`, with ?namespace=a,b and
// ?focus=ns/name as its -n and --focus.
func (s *session) connectivity(w http.ResponseWriter, r *http.Request) {
	var namespaces []string
	for _, v := range r.URL.Query()["namespace"] {
		for n := range strings.SplitSeq(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				namespaces = append(namespaces, n)
			}
		}
	}
	focusRef := r.URL.Query().Get("focus")
	s.read(w, func(e *eval.Engine) (*bytes.Buffer, int, error) {
		var focus *model.Endpoint
		if focusRef != "" {
			var err error
			if focus, err = cmdutil.ResolveEndpoint(e, focusRef); err != nil {
				return nil, http.StatusBadRequest, fmt.Errorf("focus: %v", err)
			}
		}
		a := analyze.Scope(e, focus, namespaces, false)
		var b bytes.Buffer
		return &b, 0, render.WriteAnalysis(&b, render.JSON, a, render.Style{})
	})
}

// explain answers as `explain -o json`: ?from=SRC&to=DST[&port=80/TCP].
func (s *session) explain(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, port := q.Get("from"), q.Get("to"), q.Get("port")
	if from == "" || to == "" {
		httpError(w, http.StatusBadRequest, "give from and to: /explain?from=ns/a&to=ns/b[&port=80/TCP]")
		return
	}
	scope := model.AllConns()
	if port != "" {
		proto, p, err := cmdutil.ParsePortFlag(port)
		if err != nil {
			httpError(w, http.StatusBadRequest, err.Error())
			return
		}
		scope = model.ConnsOf(proto, model.SinglePort(p))
	}
	s.read(w, func(e *eval.Engine) (*bytes.Buffer, int, error) {
		src, err := cmdutil.ResolveEndpoint(e, from)
		if err != nil {
			return nil, http.StatusNotFound, fmt.Errorf("from: %v", err)
		}
		dst, err := cmdutil.ResolveEndpoint(e, to)
		if err != nil {
			return nil, http.StatusNotFound, fmt.Errorf("to: %v", err)
		}
		var b bytes.Buffer
		return &b, 0, render.WriteDecision(&b, render.JSON, e.Explain(src, dst, scope), render.Style{})
	})
}

// healthz is 200 while every watch is live.
func (s *session) healthz(w http.ResponseWriter, _ *http.Request) {
	h := s.currentWatcher().Health()
	if h.OK() {
		fmt.Fprintln(w, "ok")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	if !h.Synced {
		fmt.Fprintln(w, "not synced with the cluster yet")
	}
	keys := make([]string, 0, len(h.Errors))
	for k := range h.Errors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s: %v (since %s)\n", k, h.Errors[k], h.Since.Format("15:04:05"))
	}
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	var b bytes.Buffer
	_ = writeLine(&b, map[string]string{"error": msg})
	_, _ = w.Write(b.Bytes())
}
