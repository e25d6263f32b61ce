package k8s

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// serve checks serve mode: one Deployment running `birdwatch serve` with
// /healthz probes, selected by a Service, and no CronJob.
func (m *manifests) serve() {
	if len(m.deployments) != 1 || len(m.cronJobs) != 0 {
		m.addf("serve mode: want one Deployment and no CronJob, got %d and %d", len(m.deployments), len(m.cronJobs))
		return
	}
	d := m.deployments[0]
	where := "Deployment " + d.Name
	m.pod(where, &d.Spec.Template.Spec)
	c := d.Spec.Template.Spec.Containers
	if len(c) == 0 {
		return
	}
	if len(c[0].Args) == 0 || c[0].Args[0] != "serve" {
		m.addf("%s: args %v, want serve", where, c[0].Args)
	}
	for name, p := range map[string]*corev1.Probe{"readiness": c[0].ReadinessProbe, "liveness": c[0].LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != healthPath || !hasPort(c[0], p.HTTPGet.Port) {
			m.addf("%s: %s probe must GET %s on a container port", where, name, healthPath)
		}
	}
	if d.Spec.Selector == nil || !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		m.addf("%s: selector does not match its pod labels", where)
	}
	if len(m.services) != 1 {
		m.addf("serve mode: want one Service, got %d", len(m.services))
		return
	}
	s := m.services[0]
	if len(s.Spec.Selector) == 0 || !subset(s.Spec.Selector, d.Spec.Template.Labels) {
		m.addf("Service %s: selector %v does not select the Deployment's pods", s.Name, s.Spec.Selector)
	}
	for _, p := range s.Spec.Ports {
		if !hasPort(c[0], p.TargetPort) {
			m.addf("Service %s: targetPort %s is not a container port", s.Name, p.TargetPort.String())
		}
	}
}

// cronJob checks CronJob mode: `birdwatch run --once`, never two at a time.
func (m *manifests) cronJob() {
	if len(m.cronJobs) != 1 || len(m.deployments) != 0 {
		m.addf("cronjob mode: want one CronJob and no Deployment, got %d and %d", len(m.cronJobs), len(m.deployments))
		return
	}
	cj := m.cronJobs[0]
	where := "CronJob " + cj.Name
	spec := &cj.Spec.JobTemplate.Spec.Template.Spec
	m.pod(where, spec)
	if cj.Spec.ConcurrencyPolicy != "Forbid" {
		m.addf("%s: concurrencyPolicy %q, want Forbid", where, cj.Spec.ConcurrencyPolicy)
	}
	if c := spec.Containers; len(c) > 0 && !slices.Equal(c[0].Args, []string{"run", "--once"}) {
		m.addf("%s: args %v, want [run --once]", where, c[0].Args)
	}
	if d := cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds; d == nil || *d <= 0 {
		m.addf("%s: activeDeadlineSeconds must bound a stuck run", where)
	}
}

// pod checks what every birdwatch pod must have: the service account,
// non-root with a read-only root filesystem and no capabilities, a pinned
// image, requests and a memory limit, settings from the build's ConfigMap,
// secrets only as files from the operator's Secret, and writable paths on
// emptyDir volumes.
func (m *manifests) pod(where string, spec *corev1.PodSpec) {
	if spec.ServiceAccountName != serviceAccount || !m.accounts[serviceAccount] {
		m.addf("%s: serviceAccountName %q, want %q from the build", where, spec.ServiceAccountName, serviceAccount)
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		m.addf("%s: pod must run as a non-root user (runAsNonRoot, runAsUser != 0)", where)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		m.addf("%s: pod needs seccompProfile RuntimeDefault", where)
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		m.addf("%s: no host namespaces", where)
	}
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		m.addf("%s: want exactly one container", where)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
		if v.Secret != nil && v.Secret.SecretName != secretName {
			m.addf("%s: volume %s mounts secret %q, want %q", where, v.Name, v.Secret.SecretName, secretName)
		}
		if v.HostPath != nil {
			m.addf("%s: volume %s: no hostPath", where, v.Name)
		}
	}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		cw := fmt.Sprintf("%s container %s", where, c.Name)
		m.container(cw, c)
		m.mounts(cw, c, volumes)
		m.env(cw, c)
	}
}

func (m *manifests) container(where string, c *corev1.Container) {
	name, tag, ok := strings.Cut(c.Image, ":")
	if name != image || !ok || tag == "" || tag == "latest" {
		m.addf("%s: image %q, want %s pinned to a tag", where, c.Image, image)
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		m.addf("%s: no securityContext", where)
	default:
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			m.addf("%s: root filesystem must be read-only", where)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			m.addf("%s: allowPrivilegeEscalation must be false", where)
		}
		if sc.Privileged != nil && *sc.Privileged {
			m.addf("%s: must not be privileged", where)
		}
		if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			m.addf("%s: must drop ALL capabilities and add none", where)
		}
	}
	req, lim := c.Resources.Requests, c.Resources.Limits
	if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
		m.addf("%s: needs cpu and memory requests and a memory limit", where)
	} else if lim.Memory().Cmp(*req.Memory()) < 0 {
		m.addf("%s: memory limit below the request", where)
	}
}

// mounts checks that the container can write only where emptyDir volumes
// are mounted, and that the secret volume is read-only.
func (m *manifests) mounts(where string, c *corev1.Container, volumes map[string]corev1.Volume) {
	writable := map[string]bool{}
	for _, vm := range c.VolumeMounts {
		v, ok := volumes[vm.Name]
		switch {
		case !ok:
			m.addf("%s: mount %s names no volume", where, vm.Name)
		case v.Secret != nil && !vm.ReadOnly:
			m.addf("%s: secret mount %s must be read-only", where, vm.MountPath)
		case v.EmptyDir != nil && !vm.ReadOnly:
			writable[vm.MountPath] = true
		}
	}
	if !writable["/tmp"] {
		m.addf("%s: /tmp must be a writable emptyDir (the root filesystem is read-only)", where)
	}
	cache := envValue(c, "BIRDWATCH_CACHE_DIR", m.configMaps)
	if cache == "" || !writable[cache] {
		m.addf("%s: BIRDWATCH_CACHE_DIR (%q) must be a writable emptyDir mount", where, cache)
	}
}

// env checks that settings come from a ConfigMap of the build and that no
// token or secret is given as a literal value: only *_FILE paths under a
// mounted secret.
func (m *manifests) env(where string, c *corev1.Container) {
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil || m.configMaps[ef.ConfigMapRef.Name] == nil {
			m.addf("%s: envFrom must name a ConfigMap of the build", where)
		}
		if ef.SecretRef != nil {
			m.addf("%s: secrets come as files, not envFrom", where)
		}
	}
	for _, e := range c.Env {
		upper := strings.ToUpper(e.Name)
		secretish := strings.Contains(upper, "TOKEN") || strings.Contains(upper, "SECRET") || strings.Contains(upper, "PASSWORD")
		if !secretish {
			continue
		}
		if !strings.HasSuffix(upper, "_FILE") || !underSecretMount(c, e.Value) {
			m.addf("%s: %s must be a *_FILE path under the secret mount, not a value", where, e.Name)
		}
	}
}

// envValue is a variable's literal value in the container: from env, else
// from the ConfigMaps of its envFrom.
func envValue(c *corev1.Container, name string, configMaps map[string]map[string]string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			if v, ok := configMaps[ef.ConfigMapRef.Name][name]; ok {
				return v
			}
		}
	}
	return ""
}

func underSecretMount(c *corev1.Container, path string) bool {
	for _, vm := range c.VolumeMounts {
		if vm.ReadOnly && strings.HasPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/") {
			return true
		}
	}
	return false
}

func hasPort(c corev1.Container, p intstr.IntOrString) bool {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return true
		}
	}
	return false
}

func subset(sub, super map[string]string) bool {
	for k, v := range sub {
		if super[k] != v {
			return false
		}
	}
	return true
}
