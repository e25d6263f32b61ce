package k8s

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

const (
	namespace      = "birdwatch"
	serviceAccount = "birdwatch"
	secretName     = "birdwatch" // created by the operator, never shipped
	image          = "ghcr.io/birdwatch-gitops/birdwatch"
	healthPath     = "/healthz"
)

// readVerbs are the only verbs the sync gate needs.
var readVerbs = []string{"get", "list", "watch"}

// syncReads are the (API group, resource) pairs gitops/sync reads: Flux
// Kustomizations and HelmReleases, Argo CD Applications, workloads.
var syncReads = []string{
	"kustomize.toolkit.fluxcd.io/kustomizations",
	"helm.toolkit.fluxcd.io/helmreleases",
	"argoproj.io/applications",
	"apps/deployments",
	"apps/statefulsets",
}

// manifests indexes one build's objects by kind.
type manifests struct {
	deployments  []*appsv1.Deployment
	cronJobs     []*batchv1.CronJob
	services     []*corev1.Service
	accounts     map[string]bool
	configMaps   map[string]map[string]string // name -> data
	clusterRoles map[string]*rbacv1.ClusterRole
	bindings     []*rbacv1.ClusterRoleBinding
	problems     []string
}

func (m *manifests) addf(format string, args ...any) {
	m.problems = append(m.problems, fmt.Sprintf(format, args...))
}

// checkObjects returns every problem of one build, sorted. mode is "serve"
// (a Deployment and a Service) or "cronjob" (a CronJob).
func checkObjects(objs []runtime.Object, mode string) []string {
	m := &manifests{accounts: map[string]bool{}, configMaps: map[string]map[string]string{}, clusterRoles: map[string]*rbacv1.ClusterRole{}}
	m.index(objs)
	m.rbac()
	switch mode {
	case "serve":
		m.serve()
	case "cronjob":
		m.cronJob()
	default:
		m.addf("unknown mode %q", mode)
	}
	sort.Strings(m.problems)
	return m.problems
}

func (m *manifests) index(objs []runtime.Object) {
	for _, o := range objs {
		acc, err := meta.Accessor(o)
		if err != nil {
			m.addf("%T: %v", o, err)
			continue
		}
		switch o.(type) {
		case *corev1.Namespace, *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding: // cluster-scoped
		default:
			if acc.GetNamespace() != namespace {
				m.addf("%s: namespace %q, want %q", key(o), acc.GetNamespace(), namespace)
			}
		}
		switch x := o.(type) {
		case *appsv1.Deployment:
			m.deployments = append(m.deployments, x)
		case *batchv1.CronJob:
			m.cronJobs = append(m.cronJobs, x)
		case *corev1.Service:
			m.services = append(m.services, x)
		case *corev1.ServiceAccount:
			m.accounts[x.Name] = true
		case *corev1.ConfigMap:
			m.configMaps[x.Name] = x.Data
			if x.Data == nil {
				m.configMaps[x.Name] = map[string]string{}
			}
		case *rbacv1.ClusterRole:
			m.clusterRoles[x.Name] = x
		case *rbacv1.ClusterRoleBinding:
			m.bindings = append(m.bindings, x)
		case *corev1.Namespace:
		case *corev1.Secret:
			m.addf("%s: secrets are created by the operator, not shipped", key(o))
		default:
			m.addf("%s: unexpected kind", key(o))
		}
	}
}

// rbac checks that every rule only reads, names its groups and resources
// without wildcards, covers what the sync gate reads, and is bound to the
// service account the workloads run as.
func (m *manifests) rbac() {
	covered := map[string]bool{}
	for _, name := range sortedKeys(m.clusterRoles) {
		for i, r := range m.clusterRoles[name].Rules {
			where := fmt.Sprintf("ClusterRole %s rule %d", name, i)
			for _, v := range r.Verbs {
				if !slices.Contains(readVerbs, v) {
					m.addf("%s: verb %q is not read-only", where, v)
				}
			}
			if len(r.NonResourceURLs) > 0 {
				m.addf("%s: non-resource URLs are not needed", where)
			}
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					if g == "*" || strings.Contains(res, "*") {
						m.addf("%s: wildcard %q/%q", where, g, res)
					}
					if strings.Contains(res, "/") {
						m.addf("%s: subresource %q is not needed", where, res)
					}
					covered[g+"/"+res] = true
				}
			}
		}
	}
	for _, want := range syncReads {
		if !covered[want] {
			m.addf("RBAC: the sync gate cannot read %s", want)
		}
	}
	bound := false
	for _, b := range m.bindings {
		if b.RoleRef.Kind != "ClusterRole" || m.clusterRoles[b.RoleRef.Name] == nil {
			m.addf("ClusterRoleBinding %s: role %s %s is not in the build", b.Name, b.RoleRef.Kind, b.RoleRef.Name)
		}
		for _, s := range b.Subjects {
			if s.Kind != "ServiceAccount" || s.Namespace != namespace || !m.accounts[s.Name] {
				m.addf("ClusterRoleBinding %s: subject %s %s/%s is not the build's service account", b.Name, s.Kind, s.Namespace, s.Name)
			}
			bound = bound || s.Name == serviceAccount
		}
	}
	if !bound {
		m.addf("RBAC: service account %s is bound to no role", serviceAccount)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
