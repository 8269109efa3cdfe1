package manifest

import (
	"net/netip"

	"github.com/bulkhead/bulkhead/model"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fieldProblems turns validation errors into problems of src.
func fieldProblems(src model.Source, sev model.Severity, errs field.ErrorList) []model.Problem {
	out := make([]model.Problem, 0, len(errs))
	for _, e := range errs {
		out = append(out, model.Problem{Source: src, Field: e.Field, Severity: sev, Msg: e.ErrorBody()})
	}
	return out
}

// namespaceOf models a Namespace object. Its labels always include
// kubernetes.io/metadata.name=<name>: the API server sets that label on
// every namespace, overriding any value the manifest gives.
func namespaceOf(ns *corev1.Namespace, src model.Source) (*model.Namespace, []model.Problem) {
	var errs field.ErrorList
	for _, msg := range utilvalidation.IsDNS1123Label(ns.Name) {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), ns.Name, msg))
	}
	errs = append(errs, metav1validation.ValidateLabels(ns.Labels, field.NewPath("metadata", "labels"))...)
	if len(errs) > 0 {
		return nil, fieldProblems(src, model.SeverityError, errs)
	}
	labels := make(map[string]string, len(ns.Labels)+1)
	for k, v := range ns.Labels {
		labels[k] = v
	}
	labels[model.NamespaceNameLabel] = ns.Name
	return &model.Namespace{Name: ns.Name, Labels: labels, Declared: true, Source: src}, nil
}

// nodeOf models a Node with its labels and its InternalIP and ExternalIP
// addresses. An address that is not an IP is a warning and is left out.
func nodeOf(n *corev1.Node, src model.Source) (*model.Node, []model.Problem) {
	errs := metav1validation.ValidateLabels(n.Labels, field.NewPath("metadata", "labels"))
	if len(errs) > 0 {
		return nil, fieldProblems(src, model.SeverityError, errs)
	}
	node := &model.Node{Name: n.Name, Labels: n.Labels, Source: src}
	var warns field.ErrorList
	for i, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
			continue
		}
		ip, err := netip.ParseAddr(a.Address)
		if err != nil {
			warns = append(warns, field.Invalid(field.NewPath("status", "addresses").Index(i).Child("address"), a.Address, "not an IP address; left out"))
			continue
		}
		node.IPs = appendIP(node.IPs, ip.Unmap())
	}
	return node, fieldProblems(src, model.SeverityWarning, warns)
}

func appendIP(ips []netip.Addr, ip netip.Addr) []netip.Addr {
	for _, x := range ips {
		if x == ip {
			return ips
		}
	}
	return append(ips, ip)
}

// podEndpoint models a bare Pod: its labels, the ports its containers and
// init containers declare, hostNetwork, its node and the IPs of
// status.podIPs (status.podIP when podIPs is empty). An IP that does not
// parse is a warning and is left out; invalid labels or ports make the
// pod invalid, as the API server would reject it.
func podEndpoint(pod *corev1.Pod, src model.Source) (*model.Endpoint, []model.Problem) {
	ep := &model.Endpoint{
		Kind:      model.EndpointPod,
		Namespace: pod.Namespace,
		Name:      pod.Name,
		Labels:    pod.Labels,
		NodeName:  pod.Spec.NodeName,
		Source:    src,
	}
	errs := metav1validation.ValidateLabels(pod.Labels, field.NewPath("metadata", "labels"))
	ep.HostNetwork, ep.Ports, errs = podSpec(&pod.Spec, field.NewPath("spec"), errs)
	if len(errs) > 0 {
		return nil, fieldProblems(src, model.SeverityError, errs)
	}

	var warns field.ErrorList
	status := field.NewPath("status")
	for i, pip := range pod.Status.PodIPs {
		ip, err := netip.ParseAddr(pip.IP)
		if err != nil {
			warns = append(warns, field.Invalid(status.Child("podIPs").Index(i).Child("ip"), pip.IP, "not an IP address; left out"))
			continue
		}
		ep.IPs = appendIP(ep.IPs, ip.Unmap())
	}
	if len(pod.Status.PodIPs) == 0 && pod.Status.PodIP != "" {
		ip, err := netip.ParseAddr(pod.Status.PodIP)
		if err != nil {
			warns = append(warns, field.Invalid(status.Child("podIP"), pod.Status.PodIP, "not an IP address; left out"))
		} else {
			ep.IPs = []netip.Addr{ip.Unmap()}
		}
	}
	return ep, fieldProblems(src, model.SeverityWarning, warns)
}

// podSpec returns what an endpoint needs of a pod spec, validating the
// container ports as the API server does.
func podSpec(spec *corev1.PodSpec, path *field.Path, errs field.ErrorList) (hostNetwork bool, ports []model.ContainerPort, _ field.ErrorList) {
	add := func(cs []corev1.Container, path *field.Path) {
		for i := range cs {
			for j, p := range cs[i].Ports {
				pp := path.Index(i).Child("ports").Index(j)
				cp, perrs := containerPort(p, pp)
				errs = append(errs, perrs...)
				if len(perrs) == 0 {
					ports = append(ports, cp)
				}
			}
		}
	}
	add(spec.Containers, path.Child("containers"))
	add(spec.InitContainers, path.Child("initContainers"))
	return spec.HostNetwork, ports, errs
}

func containerPort(p corev1.ContainerPort, path *field.Path) (model.ContainerPort, field.ErrorList) {
	var errs field.ErrorList
	cp := model.ContainerPort{Name: p.Name, Protocol: model.TCP}
	for _, msg := range utilvalidation.IsValidPortNum(int(p.ContainerPort)) {
		errs = append(errs, field.Invalid(path.Child("containerPort"), p.ContainerPort, msg))
	}
	cp.Port = uint16(p.ContainerPort)
	switch p.Protocol {
	case "", corev1.ProtocolTCP:
	case corev1.ProtocolUDP:
		cp.Protocol = model.UDP
	case corev1.ProtocolSCTP:
		cp.Protocol = model.SCTP
	default:
		errs = append(errs, field.NotSupported(path.Child("protocol"), string(p.Protocol), []string{"TCP", "UDP", "SCTP"}))
	}
	if p.Name != "" {
		for _, msg := range utilvalidation.IsValidPortName(p.Name) {
			errs = append(errs, field.Invalid(path.Child("name"), p.Name, msg))
		}
	}
	return cp, errs
}

// workloadEndpoint models a workload as the pods its template creates:
// the template's labels, ports and hostNetwork. A CronJob's template is
// that of its jobTemplate.
func workloadEndpoint(obj k8sruntime.Object, src model.Source) (*model.Endpoint, []model.Problem) {
	var tmpl *corev1.PodTemplateSpec
	path := field.NewPath("spec", "template")
	switch o := obj.(type) {
	case *appsv1.Deployment:
		tmpl = &o.Spec.Template
	case *appsv1.StatefulSet:
		tmpl = &o.Spec.Template
	case *appsv1.DaemonSet:
		tmpl = &o.Spec.Template
	case *appsv1.ReplicaSet:
		tmpl = &o.Spec.Template
	case *batchv1.Job:
		tmpl = &o.Spec.Template
	case *batchv1.CronJob:
		tmpl = &o.Spec.JobTemplate.Spec.Template
		path = field.NewPath("spec", "jobTemplate", "spec", "template")
	case *corev1.ReplicationController:
		tmpl = o.Spec.Template
		if tmpl == nil {
			return nil, fieldProblems(src, model.SeverityError, field.ErrorList{field.Required(path, "")})
		}
	default:
		return nil, nil
	}
	ep := &model.Endpoint{
		Kind:      model.EndpointWorkload,
		Workload:  src.Kind,
		Namespace: src.Namespace,
		Name:      src.Name,
		Labels:    tmpl.Labels,
		NodeName:  tmpl.Spec.NodeName,
		Source:    src,
	}
	if k := kindOf(obj); k != nil {
		ep.Workload = k.gvk.Kind
	}
	errs := metav1validation.ValidateLabels(tmpl.Labels, path.Child("metadata", "labels"))
	ep.HostNetwork, ep.Ports, errs = podSpec(&tmpl.Spec, path.Child("spec"), errs)
	if len(errs) > 0 {
		return nil, fieldProblems(src, model.SeverityError, errs)
	}
	return ep, nil
}
