package sync

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Kinds the gates read, by the lower-case name used in spec.sync.object and
// spec.sync.workload. The versions are the current stable APIs.
var (
	kustomizationGVR = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	helmReleaseGVR   = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}
	applicationGVR   = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	deploymentGVR    = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	statefulSetGVR   = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}
)

// objectRef is one "kind/namespace/name" reference.
type objectRef struct {
	Kind, Namespace, Name string
	gvr                   schema.GroupVersionResource
}

func (o objectRef) String() string { return o.Kind + " " + o.Namespace + "/" + o.Name }

// parseRefs reads a comma-separated list of "kind/namespace/name" (or
// "kind/name", in defaultNS), each of a kind in kinds.
func parseRefs(field, s, defaultNS string, kinds map[string]schema.GroupVersionResource) ([]objectRef, error) {
	var out []objectRef
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		segs := strings.Split(part, "/")
		var ref objectRef
		switch len(segs) {
		case 2:
			ref = objectRef{Kind: strings.ToLower(segs[0]), Namespace: defaultNS, Name: segs[1]}
		case 3:
			ref = objectRef{Kind: strings.ToLower(segs[0]), Namespace: segs[1], Name: segs[2]}
		default:
			return nil, fmt.Errorf("%s %q: %w: want kind/namespace/name", field, part, ErrBadObject)
		}
		gvr, ok := kinds[ref.Kind]
		if !ok || ref.Namespace == "" || ref.Name == "" {
			return nil, fmt.Errorf("%s %q: %w: kind must be one of %s", field, part, ErrBadObject, kindNames(kinds))
		}
		ref.gvr = gvr
		out = append(out, ref)
	}
	return out, nil
}

func kindNames(kinds map[string]schema.GroupVersionResource) string {
	return strings.Join(slices.Sorted(maps.Keys(kinds)), ", ")
}

// get reads one object; a missing object is (nil, nil) so that the caller
// can wait for it (and freeze after spec.sync.timeout) instead of failing.
func get(ctx context.Context, dyn dynamic.Interface, ref objectRef) (*unstructured.Unstructured, error) {
	u, err := dyn.Resource(ref.gvr).Namespace(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", ref, err)
	}
	return u, nil
}

// condition is the part of a metav1.Condition the gates read.
type condition struct {
	Status, Reason, Message string
	ObservedGeneration      int64
	LastTransitionTime      *time.Time
}

// findCondition returns the condition of type typ in status.conditions.
func findCondition(u *unstructured.Unstructured, typ string) (condition, bool) {
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok || m["type"] != typ {
			continue
		}
		c := condition{}
		c.Status, _ = m["status"].(string)
		c.Reason, _ = m["reason"].(string)
		c.Message, _ = m["message"].(string)
		c.ObservedGeneration, _ = toInt64(m["observedGeneration"])
		c.LastTransitionTime = parseTime(m["lastTransitionTime"])
		return c, true
	}
	return condition{}, false
}

// parseTime reads an RFC 3339 timestamp; nil when v is not one.
func parseTime(v any) *time.Time {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	return &t
}

// nestedInt reads an integer field (JSON numbers decode as int64 or float64).
func nestedInt(u *unstructured.Unstructured, fields ...string) (int64, bool) {
	v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, fields...)
	if !ok {
		return 0, false
	}
	return toInt64(v)
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return int64(n), true
	}
	return 0, false
}

// renderRef expands {{ .Canary }}, {{ .Stable }}, {{ .Name }},
// {{ .Namespace }} and {{ .Service }} in a reference, so that one spec can
// name each version's workload ("deployment/games/aleph-{{ .Canary }}").
func renderRef(field, text string, c *spec.Canary, st *spec.Status) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := template.New(field).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("%s: %w: %v", field, ErrBadObject, err)
	}
	vars := struct{ Name, Namespace, Service, Stable, Canary string }{
		c.Metadata.Name, c.Metadata.Namespace, c.Spec.Service, st.Stable, st.Generation}
	var b bytes.Buffer
	if err := t.Execute(&b, vars); err != nil {
		return "", fmt.Errorf("%s: %w: %v", field, ErrBadObject, err)
	}
	return b.String(), nil
}
