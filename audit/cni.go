package audit

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/bulkhead/bulkhead/model"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Support says whether a network plugin enforces a policy API.
type Support uint8

const (
	// SupportUnknown: bulkhead cannot tell (unknown version, no public
	// statement).
	SupportUnknown Support = iota
	// Enforced: the plugin enforces the API.
	Enforced
	// OptIn: the plugin enforces it only when a feature gate or flag is
	// on, and bulkhead found no evidence that it is.
	OptIn
	// NotEnforced: the plugin does not implement the API; objects of that
	// kind are decoration.
	NotEnforced
)

func (s Support) String() string {
	switch s {
	case Enforced:
		return "enforced"
	case OptIn:
		return "only if enabled"
	case NotEnforced:
		return "not enforced"
	}
	return "unknown"
}

// Policy APIs whose enforcement the audit reports.
const (
	apiNetworkPolicy  = "NetworkPolicy"
	apiANP            = "AdminNetworkPolicy"
	apiBANP           = "BaselineAdminNetworkPolicy"
	apiClusterNetwork = "ClusterNetworkPolicy"
)

// PolicyAPIs lists them in report order.
var PolicyAPIs = []string{apiNetworkPolicy, apiANP, apiBANP, apiClusterNetwork}

// CNI is a network plugin recognised from its DaemonSet, and what it
// enforces.
type CNI struct {
	Name    string
	Version string // from the image tag; "" if unknown
	Subject Subject
	Source  model.Source
	// Support maps each policy API to its enforcement.
	Support map[string]Support
	// Why explains the verdicts, with the source of each fact.
	Why []string
}

// cniSpec recognises one plugin and knows what each of its versions
// enforces. The facts come from the projects' own release notes and pull
// requests (cited in Why), as of late 2026.
type cniSpec struct {
	name string
	// match reports whether the DaemonSet is this plugin's.
	match func(ds *appsv1.DaemonSet) bool
	// image picks the container whose tag gives the version.
	image func(ds *appsv1.DaemonSet) string
	// support computes the verdicts for a version (nil if unknown).
	support func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string)
}

type semver struct{ major, minor, patch int }

func (v *semver) atLeast(major, minor int) bool {
	return v != nil && (v.major > major || v.major == major && v.minor >= minor)
}

var semverRE = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+))?`)

// imageTag returns the tag of an image reference ("" if none).
func imageTag(image string) string {
	ref := parseImage(image)
	return ref.tag
}

func parseSemver(tag string) *semver {
	m := semverRE.FindStringSubmatch(tag)
	if m == nil {
		return nil
	}
	v := &semver{}
	v.major, _ = strconv.Atoi(m[1])
	v.minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.patch, _ = strconv.Atoi(m[3])
	}
	return v
}

func dsNamed(names ...string) func(*appsv1.DaemonSet) bool {
	return func(ds *appsv1.DaemonSet) bool {
		for _, n := range names {
			if ds.Name == n {
				return true
			}
		}
		return false
	}
}

func dsImage(substrs ...string) func(*appsv1.DaemonSet) bool {
	return func(ds *appsv1.DaemonSet) bool {
		for _, c := range ds.Spec.Template.Spec.Containers {
			for _, s := range substrs {
				if strings.Contains(c.Image, s) {
					return true
				}
			}
		}
		return false
	}
}

func either(fs ...func(*appsv1.DaemonSet) bool) func(*appsv1.DaemonSet) bool {
	return func(ds *appsv1.DaemonSet) bool {
		for _, f := range fs {
			if f(ds) {
				return true
			}
		}
		return false
	}
}

// containerImage returns the image of the first container whose name or
// image contains one of substrs.
func containerImage(substrs ...string) func(*appsv1.DaemonSet) string {
	return func(ds *appsv1.DaemonSet) string {
		for _, c := range ds.Spec.Template.Spec.Containers {
			for _, s := range substrs {
				if strings.Contains(c.Name, s) || strings.Contains(c.Image, s) {
					return c.Image
				}
			}
		}
		return ""
	}
}

func findContainer(ds *appsv1.DaemonSet, name string) *corev1.Container {
	for i := range ds.Spec.Template.Spec.Containers {
		if ds.Spec.Template.Spec.Containers[i].Name == name {
			return &ds.Spec.Template.Spec.Containers[i]
		}
	}
	return nil
}

// argValue returns the value of --name in a container's command and args
// ("--name=v" or "--name v"), and whether it is there.
func argValue(c *corev1.Container, name string) (string, bool) {
	if c == nil {
		return "", false
	}
	args := append(append([]string(nil), c.Command...), c.Args...)
	return flagValue(args, name)
}

// flagValue finds --name in a command line. A flag given twice takes the
// last value, as pflag does. A bare "--name" is "true".
func flagValue(args []string, name string) (string, bool) {
	val, found := "", false
	for i := 0; i < len(args); i++ {
		// Shell-style commands ("sh -c 'kube-apiserver --a=b ...'") are
		// split on spaces too.
		for _, a := range strings.Fields(args[i]) {
			if a == name {
				found = true
				val = "true"
				if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && !strings.Contains(args[i], " ") {
					val = args[i+1]
				}
				continue
			}
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				found, val = true, v
			}
		}
	}
	return val, found
}

func all(s Support) map[string]Support {
	return map[string]Support{apiNetworkPolicy: s, apiANP: s, apiBANP: s, apiClusterNetwork: s}
}

// The plugins' ConfigMaps the CNI checks read, in the plugin's namespace.
const (
	ciliumConfig = "cilium-config"
	antreaConfig = "antrea-config"
)

// ConfigMapsRead are the names of the only ConfigMaps any check reads. A
// cluster source need not list the others: ConfigMaps can be large and
// hold any configuration.
var ConfigMapsRead = []string{ciliumConfig, antreaConfig}

// configMapData returns data[key] of ConfigMap ns/name in the input.
func (c *Context) configMapData(ns, name, key string) (string, bool) {
	for _, o := range c.other["ConfigMap"] {
		if o.Source.Namespace == ns && o.GetName() == name {
			v := nestedString(o.Unstructured, "data", key)
			return v, v != ""
		}
	}
	return "", false
}

// cniSpecs are tried in order and the first match wins: canal's DaemonSet
// also runs calico-node and flannel, so it comes first.
var cniSpecs = []cniSpec{
	{
		name:  "canal",
		match: dsNamed("canal"),
		image: containerImage("calico-node", "calico/node"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			s, why := calicoSupport(v)
			return s, append([]string{"canal runs flannel for connectivity and Calico's policy engine (calico-node) for policies"}, why...)
		},
	},
	{
		name:  "calico",
		match: either(dsNamed("calico-node"), dsImage("calico/node")),
		image: containerImage("calico-node", "calico/node"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			return calicoSupport(v)
		},
	},
	{
		name:  "cilium",
		match: either(dsNamed("cilium"), dsImage("cilium/cilium:", "cilium/cilium@")),
		image: containerImage("cilium-agent", "cilium/cilium"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			s := map[string]Support{apiNetworkPolicy: Enforced, apiANP: NotEnforced, apiBANP: NotEnforced, apiClusterNetwork: NotEnforced}
			why := []string{"Cilium never implemented AdminNetworkPolicy/BaselineAdminNetworkPolicy (cilium/cilium#23380 became the ClusterNetworkPolicy proposal)"}
			switch {
			case v == nil:
				s[apiClusterNetwork] = SupportUnknown
			case v.atLeast(1, 20):
				s[apiClusterNetwork] = OptIn
				enabled := false
				if val, ok := argValue(findContainer(ds, "cilium-agent"), "--enable-k8s-cluster-network-policy"); ok && val == "true" {
					enabled = true
				}
				if val, ok := c.configMapData(ds.Namespace, ciliumConfig, "enable-k8s-cluster-network-policy"); ok && val == "true" {
					enabled = true
				}
				if enabled {
					s[apiClusterNetwork] = Enforced
				}
				why = append(why, "Cilium 1.20+ enforces ClusterNetworkPolicy when enable-k8s-cluster-network-policy is true (cilium/cilium#47227)")
			default:
				why = append(why, "ClusterNetworkPolicy support starts with Cilium 1.20 (cilium/cilium#47227)")
			}
			return s, why
		},
	},
	{
		name:  "antrea",
		match: either(dsNamed("antrea-agent"), dsImage("antrea/antrea-agent", "antrea/antrea-ubuntu")),
		image: containerImage("antrea-agent", "antrea/"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			s := map[string]Support{apiNetworkPolicy: Enforced, apiANP: NotEnforced, apiBANP: NotEnforced, apiClusterNetwork: NotEnforced}
			conf, _ := c.configMapData(ds.Namespace, antreaConfig, "antrea-controller.conf")
			gate := func(name string) bool {
				return regexp.MustCompile(`(?m)^\s*` + name + `\s*:\s*true\b`).MatchString(conf)
			}
			var why []string
			if v == nil {
				s[apiANP], s[apiBANP], s[apiClusterNetwork] = SupportUnknown, SupportUnknown, SupportUnknown
				return s, why
			}
			if v.atLeast(1, 13) {
				s[apiANP], s[apiBANP] = OptIn, OptIn
				if gate("AdminNetworkPolicy") {
					s[apiANP], s[apiBANP] = Enforced, Enforced
				}
				why = append(why, "Antrea 1.13+ enforces AdminNetworkPolicy and BaselineAdminNetworkPolicy behind the AdminNetworkPolicy feature gate (antrea-io/antrea#5270), deprecated in 2.7")
			}
			if v.atLeast(2, 7) {
				s[apiClusterNetwork] = OptIn
				if gate("ClusterNetworkPolicy") {
					s[apiClusterNetwork] = Enforced
				}
				why = append(why, "Antrea 2.7+ enforces ClusterNetworkPolicy behind the ClusterNetworkPolicy feature gate (antrea-io/antrea#8018, #8044)")
			}
			return s, why
		},
	},
	{
		name:  "weave-net",
		match: either(dsNamed("weave-net"), dsImage("weaveworks/weave-kube")),
		image: containerImage("weave", "weaveworks/weave-kube"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			s := all(NotEnforced)
			if findContainer(ds, "weave-npc") != nil {
				s[apiNetworkPolicy] = Enforced
				return s, []string{"Weave Net enforces NetworkPolicy in its weave-npc container; the project is no longer maintained"}
			}
			return s, []string{"this weave-net DaemonSet has no weave-npc container, which is what enforces NetworkPolicy"}
		},
	},
	{
		name:  "flannel",
		match: either(dsNamed("kube-flannel-ds", "kube-flannel"), dsImage("flannel/flannel:", "flannelcni/flannel:", "coreos/flannel:")),
		image: containerImage("flannel"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			return all(NotEnforced), []string{"flannel provides connectivity only and enforces no policy (pair it with a policy engine, as canal does)"}
		},
	},
	{
		name:  "kube-router",
		match: either(dsNamed("kube-router"), dsImage("cloudnativelabs/kube-router")),
		image: containerImage("kube-router"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			s := all(NotEnforced)
			if val, ok := argValue(findContainer(ds, "kube-router"), "--run-firewall"); ok && val == "false" {
				return s, []string{"kube-router runs with --run-firewall=false, which turns its NetworkPolicy controller off"}
			}
			s[apiNetworkPolicy] = Enforced
			return s, []string{"kube-router enforces NetworkPolicy with its network policy controller (--run-firewall, on by default)"}
		},
	},
	{
		name:  "aws-vpc-cni",
		match: dsNamed("aws-node"),
		image: containerImage("aws-node", "amazon-k8s-cni"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			s := map[string]Support{apiNetworkPolicy: NotEnforced, apiANP: NotEnforced, apiBANP: NotEnforced, apiClusterNetwork: SupportUnknown}
			agent := findContainer(ds, "aws-network-policy-agent")
			if agent == nil {
				return s, []string{"aws-node has no aws-network-policy-agent container: the VPC CNI enforces no NetworkPolicy without it"}
			}
			if val, ok := argValue(agent, "--enable-network-policy"); ok && val == "true" {
				s[apiNetworkPolicy] = Enforced
				return s, []string{"the aws-network-policy-agent runs with --enable-network-policy=true; ClusterNetworkPolicy support was added to the agent in aws/aws-network-policy-agent#496 (version not known here)"}
			}
			return s, []string{"the aws-network-policy-agent container runs without --enable-network-policy=true, so NetworkPolicy is not enforced"}
		},
	},
	{
		name:  "azure-npm",
		match: dsNamed("azure-npm"),
		image: containerImage("azure-npm"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			s := all(NotEnforced)
			s[apiNetworkPolicy] = Enforced
			return s, []string{"Azure Network Policy Manager enforces NetworkPolicy only"}
		},
	},
	{
		name:  "ovn-kubernetes",
		match: either(dsNamed("ovnkube-node"), dsImage("ovn-kubernetes")),
		image: containerImage("ovnkube", "ovn-kubernetes"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			return map[string]Support{apiNetworkPolicy: Enforced, apiANP: Enforced, apiBANP: Enforced, apiClusterNetwork: SupportUnknown},
				[]string{"OVN-Kubernetes enforces NetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy (ovn-kubernetes#3158; OpenShift 4.16+)"}
		},
	},
	{
		name:  "kube-ovn",
		match: either(dsNamed("kube-ovn-cni"), dsImage("kubeovn/kube-ovn")),
		image: containerImage("cni-server", "kube-ovn"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			return map[string]Support{apiNetworkPolicy: Enforced, apiANP: Enforced, apiBANP: Enforced, apiClusterNetwork: SupportUnknown},
				[]string{"Kube-OVN enforces NetworkPolicy and the AdminNetworkPolicy APIs; ClusterNetworkPolicy came with kubeovn/kube-ovn#5921 (version not known here)"}
		},
	},
	{
		name:  "kube-network-policies",
		match: either(dsNamed("kube-network-policies"), dsImage("kube-network-policies")),
		image: containerImage("kube-network-policies"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			s := map[string]Support{apiNetworkPolicy: Enforced, apiANP: OptIn, apiBANP: OptIn, apiClusterNetwork: OptIn}
			var args []string
			for _, ctr := range ds.Spec.Template.Spec.Containers {
				args = append(append(args, ctr.Command...), ctr.Args...)
			}
			on := func(flag string) bool { v, ok := flagValue(args, flag); return ok && v == "true" }
			if on("--admin-network-policy") {
				s[apiANP] = Enforced
			}
			if on("--baseline-admin-network-policy") {
				s[apiBANP] = Enforced
			}
			if on("--cluster-network-policy") {
				s[apiClusterNetwork] = Enforced
			}
			return s, []string{"kube-network-policies, the SIG Network reference implementation, enforces NetworkPolicy, and the cluster tiers when their flags are on (kubernetes-sigs/kube-network-policies#199)"}
		},
	},
	{
		name:  "kindnet",
		match: either(dsNamed("kindnet"), dsImage("kindnetd")),
		image: containerImage("kindnet"),
		support: func(c *Context, ds *appsv1.DaemonSet, v *semver) (map[string]Support, []string) {
			s := map[string]Support{apiNetworkPolicy: SupportUnknown, apiANP: SupportUnknown, apiBANP: SupportUnknown, apiClusterNetwork: SupportUnknown}
			tag := imageTag(containerImage("kindnet")(ds))
			// kind's kindnetd images are tagged vYYYYMMDD-hash; the
			// standalone kindnet has semantic versions.
			if m := regexp.MustCompile(`^v(\d{8})-`).FindStringSubmatch(tag); m != nil {
				if m[1] >= "20240813" {
					s[apiNetworkPolicy] = Enforced
					return s, []string{"kindnetd enforces NetworkPolicy since kind v0.24 (kindnetd v20240813), through kube-network-policies (kubernetes-sigs/kind#3612)"}
				}
				s[apiNetworkPolicy] = NotEnforced
				return s, []string{"kindnetd images before v20240813 (kind v0.24) enforce no NetworkPolicy (kubernetes-sigs/kind#842)"}
			}
			if v != nil {
				if v.atLeast(1, 3) {
					s[apiNetworkPolicy] = Enforced
					return s, []string{"kindnet enforces NetworkPolicy since v1.3.0 (kubernetes/minikube#19871)"}
				}
				s[apiNetworkPolicy] = NotEnforced
				return s, []string{"kindnet before v1.3.0 enforces no NetworkPolicy"}
			}
			return s, nil
		},
	},
}

func calicoSupport(v *semver) (map[string]Support, []string) {
	s := map[string]Support{apiNetworkPolicy: Enforced, apiANP: NotEnforced, apiBANP: NotEnforced, apiClusterNetwork: NotEnforced}
	why := []string{"Calico enforces NetworkPolicy"}
	if v == nil {
		s[apiANP], s[apiBANP], s[apiClusterNetwork] = SupportUnknown, SupportUnknown, SupportUnknown
		return s, why
	}
	if v.atLeast(3, 29) && !v.atLeast(3, 32) {
		s[apiANP] = Enforced
		if v.atLeast(3, 30) {
			s[apiBANP] = Enforced
		}
	}
	if v.atLeast(3, 32) {
		s[apiClusterNetwork] = Enforced
	}
	why = append(why, "AdminNetworkPolicy came in Calico 3.29 (projectcalico/calico#9404) and BaselineAdminNetworkPolicy in 3.30 (#9464); 3.32 replaced both with ClusterNetworkPolicy (#10810, #11144; kubernetes-sigs/network-policy-api#376)")
	return s, why
}

// detectCNIs recognises the network plugins among the input's DaemonSets.
func detectCNIs(c *Context) []CNI {
	var out []CNI
	for _, o := range c.daemonSets {
		ds := o.Obj.(*appsv1.DaemonSet)
		for _, spec := range cniSpecs {
			if !spec.match(ds) {
				continue
			}
			tag := imageTag(spec.image(ds))
			v := parseSemver(tag)
			support, why := spec.support(c, ds, v)
			version := ""
			if v != nil || tag != "" {
				version = tag
			}
			out = append(out, CNI{Name: spec.name, Version: version, Subject: Subject{Kind: "DaemonSet", Namespace: ds.Namespace, Name: ds.Name},
				Source: o.Source, Support: support, Why: why})
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Subject.String() < out[j].Subject.String() })
	return out
}

// String formats the plugin for reports: "calico v3.31.2 (DaemonSet
// kube-system/calico-node)".
func (n CNI) String() string {
	v := ""
	if n.Version != "" {
		v = " " + n.Version
	}
	return fmt.Sprintf("%s%s (%s)", n.Name, v, n.Subject)
}

// label names the plugin and its version: "calico v3.31.2".
func (n CNI) label() string {
	if n.Version == "" {
		return n.Name
	}
	return n.Name + " " + n.Version
}

// bestSupport returns the strongest enforcement any recognised plugin
// gives api, and the plugins.
func bestSupport(cnis []CNI, api string) Support {
	best := SupportUnknown
	rank := map[Support]int{NotEnforced: 1, SupportUnknown: 2, OptIn: 3, Enforced: 4}
	first := true
	for _, n := range cnis {
		s := n.Support[api]
		if first || rank[s] > rank[best] {
			best = s
			first = false
		}
	}
	return best
}
