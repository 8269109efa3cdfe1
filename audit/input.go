package audit

import (
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Object is an input object and where it came from. Obj is a typed object
// of a kind the model knows (Pod, Deployment, Node, ...) or an
// *unstructured.Unstructured for the other kinds the checks read
// (Service, ServiceAccount, ConfigMap, RoleBinding, ClusterRoleBinding,
// Istio PeerAuthentication). Secrets are never part of the input.
type Object struct {
	Source model.Source
	Obj    runtime.Object
}

// Input is what Run audits.
type Input struct {
	// Snapshot is the model of the input, as parse/manifest or the
	// live-cluster source build it.
	Snapshot *model.Snapshot
	// Objects are the objects the snapshot was built from, plus the
	// unmodelled kinds above.
	Objects []Object
	// EngineOptions are the options of the engine the segmentation checks
	// use (see eval.Options).
	EngineOptions eval.Options
}

// Unit is one pod template the workload checks inspect: a workload
// (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
// Job, CronJob) or a bare pod. Objects the input also holds the owner of
// (the ReplicaSets of a Deployment, the pods of a ReplicaSet) are not
// units of their own: findings go to the object a person edits. Pods
// whose owner is absent from the input stand for that owner, once.
type Unit struct {
	Subject Subject
	Source  model.Source
	Object  runtime.Object
	// Meta is the object's metadata; PodMeta the pod template's (the same
	// for a pod).
	Meta, PodMeta *metav1.ObjectMeta
	Spec          *corev1.PodSpec
	// SpecPath is the field path of Spec: "spec", "spec.template.spec" or
	// "spec.jobTemplate.spec.template.spec".
	SpecPath string
	// Static is true for static pods (and their mirror pods), which the
	// kubelet runs from files on the node.
	Static bool

	containers []ContainerRef // cached by Containers
}

// ContainerRef is one container of a unit with its field path.
type ContainerRef struct {
	*corev1.Container
	// Path is the container's field path, e.g.
	// "spec.template.spec.initContainers[0]".
	Path string
}

// Containers returns the unit's init, regular and ephemeral containers.
// The result is shared: callers must not modify it.
func (u *Unit) Containers() []ContainerRef {
	if u.containers == nil {
		u.containers = u.buildContainers()
	}
	return u.containers
}

func (u *Unit) buildContainers() []ContainerRef {
	out := make([]ContainerRef, 0, len(u.Spec.InitContainers)+len(u.Spec.Containers)+len(u.Spec.EphemeralContainers))
	for i := range u.Spec.InitContainers {
		out = append(out, ContainerRef{&u.Spec.InitContainers[i], u.SpecPath + ".initContainers[" + itoa(i) + "]"})
	}
	for i := range u.Spec.Containers {
		out = append(out, ContainerRef{&u.Spec.Containers[i], u.SpecPath + ".containers[" + itoa(i) + "]"})
	}
	for i := range u.Spec.EphemeralContainers {
		c := corev1.Container(u.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		out = append(out, ContainerRef{&c, u.SpecPath + ".ephemeralContainers[" + itoa(i) + "]"})
	}
	return out
}

// finding returns a finding about the unit.
func (u *Unit) finding(msg, key, field string) Finding {
	return Finding{Subject: u.Subject, Source: u.Source, Msg: msg, Key: key, Field: field}
}

// containerFinding returns a finding about one container of the unit.
func (u *Unit) containerFinding(c ContainerRef, msg, key, field string) Finding {
	f := u.finding(msg, key, field)
	f.Container = c.Name
	if key == "" {
		f.Key = c.Name
	} else {
		f.Key = c.Name + "/" + key
	}
	return f
}

// unstructuredObj is an object of a kind the model does not know.
type unstructuredObj struct {
	Source model.Source
	*unstructured.Unstructured
}

func (o unstructuredObj) subject() Subject {
	return Subject{Kind: o.GetKind(), Namespace: o.Source.Namespace, Name: o.GetName()}
}

// podSpecOf returns the pod template of a pod-bearing object.
func podSpecOf(obj runtime.Object) (meta, podMeta *metav1.ObjectMeta, spec *corev1.PodSpec, path string, ok bool) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return &o.ObjectMeta, &o.ObjectMeta, &o.Spec, "spec", true
	case *appsv1.Deployment:
		return &o.ObjectMeta, &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, "spec.template.spec", true
	case *appsv1.StatefulSet:
		return &o.ObjectMeta, &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, "spec.template.spec", true
	case *appsv1.DaemonSet:
		return &o.ObjectMeta, &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, "spec.template.spec", true
	case *appsv1.ReplicaSet:
		return &o.ObjectMeta, &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, "spec.template.spec", true
	case *corev1.ReplicationController:
		if o.Spec.Template == nil {
			return nil, nil, nil, "", false
		}
		return &o.ObjectMeta, &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, "spec.template.spec", true
	case *batchv1.Job:
		return &o.ObjectMeta, &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, "spec.template.spec", true
	case *batchv1.CronJob:
		t := &o.Spec.JobTemplate.Spec.Template
		return &o.ObjectMeta, &t.ObjectMeta, &t.Spec, "spec.jobTemplate.spec.template.spec", true
	}
	return nil, nil, nil, "", false
}

type objKey struct{ kind, ns, name string }

func keyOf(s model.Source) objKey { return objKey{s.Kind, s.Namespace, s.Name} }

// buildUnits picks the units among the objects (see Unit), and maps every
// pod-bearing object to the subject of its unit.
func buildUnits(objs []Object) ([]*Unit, map[objKey]Subject) {
	type key = objKey
	present := map[key]bool{}
	parent := map[key]key{}
	for _, o := range objs {
		if _, _, _, _, ok := podSpecOf(o.Obj); ok {
			present[keyOf(o.Source)] = true
		}
	}
	for _, o := range objs {
		meta, _, _, _, ok := podSpecOf(o.Obj)
		if !ok {
			continue
		}
		for _, ref := range meta.OwnerReferences {
			if k := (key{ref.Kind, o.Source.Namespace, ref.Name}); present[k] {
				parent[keyOf(o.Source)] = k
				break
			}
		}
	}
	var units []*Unit
	subjects := map[key]Subject{}
	seen := map[Subject]bool{}
	for _, o := range objs {
		meta, podMeta, spec, path, ok := podSpecOf(o.Obj)
		if !ok {
			continue
		}
		if pod, isPod := o.Obj.(*corev1.Pod); isPod && (pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed) {
			continue
		}
		subj := Subject{Kind: o.Source.Kind, Namespace: o.Source.Namespace, Name: o.Source.Name}
		owned, static := false, false
		for _, ref := range meta.OwnerReferences {
			if ref.Kind == "Node" {
				static = true
				continue
			}
			if present[key{ref.Kind, o.Source.Namespace, ref.Name}] {
				owned = true
				break
			}
			if ref.Controller != nil && *ref.Controller {
				subj = Subject{Kind: ref.Kind, Namespace: o.Source.Namespace, Name: ref.Name}
			}
		}
		if owned {
			continue
		}
		switch meta.Annotations["kubernetes.io/config.source"] {
		case "file", "http":
			static = true
		}
		if _, mirror := meta.Annotations["kubernetes.io/config.mirror"]; mirror {
			static = true
		}
		if seen[subj] {
			subjects[keyOf(o.Source)] = subj
			continue
		}
		seen[subj] = true
		units = append(units, &Unit{Subject: subj, Source: o.Source, Object: o.Obj, Meta: meta, PodMeta: podMeta,
			Spec: spec, SpecPath: path, Static: static})
		subjects[keyOf(o.Source)] = subj
	}
	// Owned objects map to their topmost owner's subject.
	for k := range present {
		top := k
		for i := 0; i < 10; i++ {
			p, ok := parent[top]
			if !ok {
				break
			}
			top = p
		}
		if s, ok := subjects[top]; ok {
			subjects[k] = s
		}
	}
	sort.SliceStable(units, func(i, j int) bool { return units[i].Subject.String() < units[j].Subject.String() })
	return units, subjects
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	var b []byte
	for i > 0 {
		b = append([]byte{digits[i%10]}, b...)
		i /= 10
	}
	return string(b)
}

// labelsMatch reports whether every key=value of sel is in ls (a Service
// selector). An empty selector matches nothing, as Services define.
func labelsMatch(sel, ls map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if ls[k] != v {
			return false
		}
	}
	return true
}

// nestedString reads a string field of an unstructured object.
func nestedString(u *unstructured.Unstructured, fields ...string) string {
	s, _, _ := unstructured.NestedString(u.Object, fields...)
	return s
}

// quoteList formats names for messages: "a, b and c".
func quoteList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
