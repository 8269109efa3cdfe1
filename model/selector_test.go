package model

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSelectorFromLabelSelector(t *testing.T) {
	tests := []struct {
		name    string
		ls      *metav1.LabelSelector
		labels  map[string]string
		want    bool
		wantErr bool
	}{
		{"nil selects nothing", nil, map[string]string{"a": "b"}, false, false},
		{"empty selects all", &metav1.LabelSelector{}, map[string]string{"a": "b"}, true, false},
		{"matchLabels", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, map[string]string{"app": "web", "x": "y"}, true, false},
		{"matchLabels miss", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, map[string]string{"app": "db"}, false, false},
		{"In", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}}}, map[string]string{"env": "b"}, true, false},
		{"NotIn absent key", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"a"}}}}, map[string]string{}, true, false},
		{"Exists", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpExists}}}, map[string]string{"env": ""}, true, false},
		{"DoesNotExist", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpDoesNotExist}}}, map[string]string{"env": "x"}, false, false},
		{"AND of labels and expressions", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}, MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpIn, Values: []string{"prod"}}}}, map[string]string{"app": "web", "env": "dev"}, false, false},
		{"bad operator", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: "Equals", Values: []string{"a"}}}}, nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := SelectorFromLabelSelector(tt.ls)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := s.Matches(tt.labels); got != tt.want {
				t.Errorf("Matches(%v) = %v, want %v (selector %s)", tt.labels, got, tt.want, s)
			}
		})
	}
}
