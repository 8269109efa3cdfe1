//go:build tools

// Package deps pins the modules bulkhead builds on before code imports them.
package deps

import (
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/nftables"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "github.com/vishvananda/netlink"
	_ "github.com/vishvananda/netns"
	_ "go4.org/netipx"
	_ "golang.org/x/tools/txtar"
	_ "k8s.io/api/apps/v1"
	_ "k8s.io/api/batch/v1"
	_ "k8s.io/api/core/v1"
	_ "k8s.io/api/networking/v1"
	_ "k8s.io/apimachinery/pkg/labels"
	_ "k8s.io/client-go/kubernetes"
	_ "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	_ "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	_ "sigs.k8s.io/network-policy-api/apis/v1beta1"
	_ "sigs.k8s.io/yaml"
)
