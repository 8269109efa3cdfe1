package kube

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config chooses a cluster as kubectl does: the kubeconfig file from
// Kubeconfig, else the files of $KUBECONFIG, else ~/.kube/config; the
// context from Context, else the file's current context; and, when no
// kubeconfig gives anything, the in-cluster configuration of a pod's
// service account.
type Config struct {
	Kubeconfig string // --kubeconfig
	Context    string // --context
}

// Cluster is a cluster to read: how to reach it, and what to call it in
// messages.
type Cluster struct {
	REST *rest.Config
	// Context is the kubeconfig context, "" for in-cluster configuration
	// or a configuration built in code.
	Context string
	// Namespace is the context's namespace, "" if it names none. bulkhead
	// reads every namespace whatever it is (see docs/live.md).
	Namespace string
	InCluster bool
}

// Name describes the cluster for messages: `context "prod" (https://...)`.
func (c *Cluster) Name() string {
	switch {
	case c.InCluster:
		return "in-cluster configuration (" + c.REST.Host + ")"
	case c.Context != "":
		return fmt.Sprintf("context %q (%s)", c.Context, c.REST.Host)
	}
	return c.REST.Host
}

// ForConfig wraps a client configuration built in code, such as a test's.
func ForConfig(cfg *rest.Config) *Cluster {
	return &Cluster{REST: rest.CopyConfig(cfg)}
}

// Connect loads the client configuration. It does not contact the
// server: errors here are about the kubeconfig.
func (c Config) Connect() (*Cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: c.Context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	raw, rawErr := cc.RawConfig()
	if rawErr != nil {
		return nil, fmt.Errorf("kubeconfig: %w", rawErr)
	}
	if c.Context != "" {
		if _, ok := raw.Contexts[c.Context]; !ok {
			names := make([]string, 0, len(raw.Contexts))
			for n := range raw.Contexts {
				names = append(names, n)
			}
			slices.Sort(names)
			have := "it has none"
			if len(names) > 0 {
				have = "it has " + strings.Join(names, ", ")
			}
			return nil, fmt.Errorf("kubeconfig %s: no context %q (%s)", kubeconfigName(rules), c.Context, have)
		}
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, errors.New("no cluster configured: no kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not running in a pod")
		}
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfigName(rules), err)
	}
	cl := &Cluster{REST: cfg, Context: raw.CurrentContext}
	if c.Context != "" {
		cl.Context = c.Context
	}
	if ctx := raw.Contexts[cl.Context]; ctx != nil {
		cl.Namespace = ctx.Namespace
	} else {
		// The loader fell back to the pod's service account.
		cl.Context, cl.InCluster = "", true
	}
	return cl, nil
}

func kubeconfigName(rules *clientcmd.ClientConfigLoadingRules) string {
	if rules.ExplicitPath != "" {
		return rules.ExplicitPath
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		return "$KUBECONFIG (" + env + ")"
	}
	return clientcmd.RecommendedHomeFile
}

// clientConfig returns the configuration for typed clients: protobuf, and
// a higher rate limit than client-go's default of 5 requests a second,
// which would make listing a large cluster page by page crawl.
func clientConfig(cfg *rest.Config, protobuf bool) *rest.Config {
	c := rest.CopyConfig(cfg)
	if c.QPS == 0 {
		c.QPS, c.Burst = 100, 200
	}
	if protobuf {
		c.ContentType = "application/vnd.kubernetes.protobuf"
		c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	}
	if c.UserAgent == "" {
		c.UserAgent = "bulkhead"
	}
	return c
}
