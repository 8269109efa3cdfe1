package audit_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/audit"
	"github.com/google/go-cmp/cmp"
)

// dsYAML writes a DaemonSet in kube-system with the given containers
// (name=image, args after a space).
func dsYAML(name string, containers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: %s, namespace: kube-system}\nspec:\n  selector: {matchLabels: {app: %s}}\n  template:\n    metadata: {labels: {app: %s}}\n    spec:\n      containers:\n", name, name, name)
	for _, c := range containers {
		fields := strings.Fields(c)
		n, img, _ := strings.Cut(fields[0], "=")
		fmt.Fprintf(&b, "      - name: %s\n        image: %s\n", n, img)
		if len(fields) > 1 {
			fmt.Fprintf(&b, "        args: [%s]\n", strings.Join(fields[1:], ", "))
		}
	}
	return b.String()
}

func TestCNIRecognition(t *testing.T) {
	antreaConf := "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: antrea-config, namespace: kube-system}\ndata:\n  antrea-controller.conf: |\n    featureGates:\n      AdminNetworkPolicy: true\n      ClusterNetworkPolicy: false\n"
	ciliumConf := "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cilium-config, namespace: kube-system}\ndata: {enable-k8s-cluster-network-policy: \"true\"}\n"
	tests := []struct {
		name, yaml string
		want       string // name version NP/ANP/BANP/CNP
	}{
		{"calico 3.29", dsYAML("calico-node", "calico-node=quay.io/calico/node:v3.29.1"), "calico v3.29.1 enforced/enforced/not enforced/not enforced"},
		{"canal", dsYAML("canal", "calico-node=quay.io/calico/node:v3.30.0", "kube-flannel=ghcr.io/flannel-io/flannel:v0.26.1"), "canal v3.30.0 enforced/enforced/enforced/not enforced"},
		{"cilium 1.20 off", dsYAML("cilium", "cilium-agent=quay.io/cilium/cilium:v1.20.0"), "cilium v1.20.0 enforced/not enforced/not enforced/only if enabled"},
		{"cilium 1.20 on", dsYAML("cilium", "cilium-agent=quay.io/cilium/cilium:v1.20.0") + ciliumConf, "cilium v1.20.0 enforced/not enforced/not enforced/enforced"},
		{"cilium by flag", dsYAML("cilium", "cilium-agent=quay.io/cilium/cilium:v1.21.2 --enable-k8s-cluster-network-policy=true"), "cilium v1.21.2 enforced/not enforced/not enforced/enforced"},
		{"antrea 2.7 gates", dsYAML("antrea-agent", "antrea-agent=antrea/antrea-agent-ubuntu:v2.7.0") + antreaConf, "antrea v2.7.0 enforced/enforced/enforced/only if enabled"},
		{"antrea 1.12", dsYAML("antrea-agent", "antrea-agent=antrea/antrea-agent-ubuntu:v1.12.0"), "antrea v1.12.0 enforced/not enforced/not enforced/not enforced"},
		{"weave without npc", dsYAML("weave-net", "weave=weaveworks/weave-kube:2.8.1"), "weave-net 2.8.1 not enforced/not enforced/not enforced/not enforced"},
		{"weave with npc", dsYAML("weave-net", "weave=weaveworks/weave-kube:2.8.1", "weave-npc=weaveworks/weave-npc:2.8.1"), "weave-net 2.8.1 enforced/not enforced/not enforced/not enforced"},
		{"kube-router firewall off", dsYAML("kube-router", "kube-router=docker.io/cloudnativelabs/kube-router:v2.4.0 --run-firewall=false"), "kube-router v2.4.0 not enforced/not enforced/not enforced/not enforced"},
		{"aws without agent", dsYAML("aws-node", "aws-node=602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.0"), "aws-vpc-cni v1.19.0 not enforced/not enforced/not enforced/unknown"},
		{"aws with agent", dsYAML("aws-node", "aws-node=602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.0", "aws-network-policy-agent=602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.2.0 --enable-network-policy=true"), "aws-vpc-cni v1.19.0 enforced/not enforced/not enforced/unknown"},
		{"kindnet old", dsYAML("kindnet", "kindnet-cni=docker.io/kindest/kindnetd:v20230511-dc714da8"), "kindnet v20230511-dc714da8 not enforced/unknown/unknown/unknown"},
		{"kindnet 0.24", dsYAML("kindnet", "kindnet-cni=docker.io/kindest/kindnetd:v20240813-c6f155d6"), "kindnet v20240813-c6f155d6 enforced/unknown/unknown/unknown"},
		{"ovn", dsYAML("ovnkube-node", "ovnkube-controller=ghcr.io/ovn-org/ovn-kubernetes/ovn-kube-ubuntu:master"), "ovn-kubernetes master enforced/enforced/enforced/unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := audit.Run(load(t, "cni.yaml", []byte(tt.yaml)), audit.Config{Now: testNow, Only: []string{"BH-PLT-001"}})
			if len(r.CNIs) != 1 {
				t.Fatalf("recognised %d plugins: %+v", len(r.CNIs), r.CNIs)
			}
			n := r.CNIs[0]
			var parts []string
			for _, api := range audit.PolicyAPIs {
				parts = append(parts, n.Support[api].String())
			}
			got := n.Name + " " + n.Version + " " + strings.Join(parts, "/")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
