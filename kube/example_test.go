package kube_test

import (
	"fmt"
	"time"

	"github.com/bulkhead/bulkhead/kube"
	"github.com/bulkhead/bulkhead/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A State applies object events to the model one at a time and says what
// each changed.
func ExampleState() {
	pod := func(name string, labels map[string]string) kube.Object {
		p := &corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: labels, ResourceVersion: fmt.Sprint(len(labels))},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}},
		}
		return kube.Object{Obj: p, Source: model.Source{Kind: "Pod", Namespace: "shop", Name: name}}
	}
	s := kube.NewState()
	snap := s.Reset([]kube.Object{pod("web", map[string]string{"app": "web"})})
	fmt.Println(len(snap.Endpoints), "endpoint")

	s.Set(pod("web", map[string]string{"app": "web", "tier": "front"}), time.Time{})
	s.Set(pod("db", map[string]string{"app": "db"}), time.Time{})
	s.Delete(model.Source{Kind: "Pod", Namespace: "shop", Name: "web"}, time.Time{})
	snap, events, delta := s.Snapshot()
	for _, e := range events {
		fmt.Println(e)
	}
	fmt.Println(len(snap.Endpoints), "endpoint,", len(delta.Endpoints), "endpoint changes")
	// Output:
	// 1 endpoint
	// pod shop/web updated (labels +tier=front)
	// pod shop/db added
	// pod shop/web deleted
	// 1 endpoint, 3 endpoint changes
}
