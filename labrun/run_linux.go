//go:build linux

package labrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/bulkhead/bulkhead/dataplane"
	"github.com/bulkhead/bulkhead/lab"
)

// Up builds s's lab (lab.Up) and enforces c's rules in it. On failure it
// deletes what it built.
func Up(ctx context.Context, s *Setup, c Compiler, logger *slog.Logger) (*lab.Lab, error) {
	l, err := lab.Up(ctx, s.input, logger)
	if err != nil {
		return nil, err
	}
	if err := Enforce(ctx, l, s, c, logger); err != nil {
		if derr := l.Down(context.WithoutCancel(ctx)); derr != nil {
			err = errors.Join(err, fmt.Errorf("deleting the lab: %w", derr))
		}
		return nil, err
	}
	return l, nil
}

// Attach returns the lab of s that another process brought up with Up
// (lab.Attach): the same Setup gives the same namespaces and addresses.
func Attach(s *Setup, logger *slog.Logger) (*lab.Lab, error) {
	return lab.Attach(s.input, logger)
}

// Enforce applies, in each node's namespace, the ruleset c compiles for
// that node's pods, through a dataplane.Netlink applier, as the node agent
// would. A nil c applies nothing.
func Enforce(ctx context.Context, l *lab.Lab, s *Setup, c Compiler, logger *slog.Logger) error {
	if c == nil {
		return nil
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for _, node := range s.Nodes() {
		rs, err := c(s.Engine, s.Local(node))
		if err != nil {
			return fmt.Errorf("node %s: compiling its rules: %w", node, err)
		}
		ns, err := l.NodeNetns(node)
		if err != nil {
			return err
		}
		ap, err := dataplane.New(dataplane.Config{NetNS: int(ns), Table: rs.TableName(), Logger: logger})
		if err != nil {
			return fmt.Errorf("node %s: %w", node, err)
		}
		err = ap.Apply(ctx, rs)
		ap.Close()
		if err != nil {
			return fmt.Errorf("node %s: applying its rules: %w", node, err)
		}
		logger.Debug("rules applied", "node", node, "pods", len(s.Local(node)), "chains", len(rs.Chains), "sets", len(rs.Sets), "maps", len(rs.Maps))
	}
	return nil
}

// reprobeRounds and reprobeConcurrency bound how Probe tries again the
// probes that failed where the engine allows them.
const (
	reprobeRounds      = 2
	reprobeConcurrency = 16
)

// Probe makes every probe of s in l, concurrently, and compares the wire
// with the engine. Probes that did not connect although the engine allows
// them are first made again, up to twice, a few at a time (see
// Report.Reprobed), so that a loaded machine does not pass for a rule
// that drops.
func Probe(ctx context.Context, l *lab.Lab, s *Setup) *Report {
	specs := s.Probes()
	results := l.ProbeAll(ctx, specs, s.concurrency)
	reprobed, recovered := 0, 0
	for round := range reprobeRounds {
		idx := s.Doubtful(results)
		if len(idx) == 0 || ctx.Err() != nil {
			break
		}
		if round == 0 {
			reprobed = len(idx)
		}
		again := make([]lab.ProbeSpec, len(idx))
		for k, i := range idx {
			again[k] = specs[i]
		}
		for k, res := range l.ProbeAll(ctx, again, reprobeConcurrency) {
			if res.Allowed() {
				results[idx[k]] = res
				recovered++
			}
		}
	}
	r := s.Compare(results)
	r.Reprobed, r.Recovered = reprobed, recovered
	return r
}

// Run brings s's lab up with c's rules, probes it and deletes it, also
// when probing fails or ctx ends. The error is for a lab that could not
// be built, probed or deleted; mismatches are in the Report.
func Run(ctx context.Context, s *Setup, c Compiler, logger *slog.Logger) (r *Report, err error) {
	l, err := Up(ctx, s, c, logger)
	if err != nil {
		return nil, err
	}
	defer func() {
		if derr := l.Down(context.WithoutCancel(ctx)); derr != nil {
			err = errors.Join(err, fmt.Errorf("deleting the lab: %w", derr))
		}
	}()
	r = Probe(ctx, l, s)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r, nil
}
