package k8s

import (
	"bufio"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// The Helm chart (infra/helm/birdwatch) is rendered here with Helm's own Go
// library (the loader, values coalescing and template engine `helm
// template` runs), decoded strictly with client-go's scheme and checked
// with the same checks as the Kustomize manifests. Helm is a test
// dependency of this package only: the birdwatch binary does not link it.

const chartDir = "../helm/birdwatch"

// renderChart renders the chart as release "birdwatch" in namespace
// birdwatch with values over the chart's own, and decodes the objects.
func renderChart(t *testing.T, values map[string]any) []runtime.Object {
	t.Helper()
	objs, err := tryRenderChart(t, values)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func tryRenderChart(t *testing.T, values map[string]any) ([]runtime.Object, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	vals, err := util.ToRenderValues(ch, values, common.ReleaseOptions{Name: "birdwatch", Namespace: namespace, IsInstall: true}, common.DefaultCapabilities.Copy())
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	var stream strings.Builder
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if strings.HasSuffix(name, ".yaml") && strings.TrimSpace(files[name]) != "" {
			stream.WriteString("---\n" + files[name] + "\n")
		}
	}
	objs, err := decode([]byte(stream.String()))
	if err != nil {
		t.Fatalf("decode the rendered chart: %v\n%s", err, stream.String())
	}
	// helm install puts namespaced objects in the release namespace.
	for _, o := range objs {
		switch o.(type) {
		case *corev1.Namespace, *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding:
			continue
		}
		if acc, err := meta.Accessor(o); err == nil && acc.GetNamespace() == "" {
			acc.SetNamespace(namespace)
		}
	}
	return objs, nil
}

// exampleValues are the values a user sets at least.
func exampleValues() map[string]any {
	return map[string]any{"settings": map[string]any{
		"BIRDWATCH_REPO":           "https://github.com/acme/fleet",
		"BIRDWATCH_PROMETHEUS_URL": "http://prometheus-operated.monitoring.svc:9090",
	}}
}

// TestHelmChart renders the chart with the example values and runs the
// Kustomize manifests' checks on it: one serve Deployment with probes,
// non-root, read-only, a pinned image, GOMEMLIMIT, a memory limit,
// settings from a ConfigMap, secrets only as files, read-only RBAC bound
// to the service account.
func TestHelmChart(t *testing.T) {
	objs := renderChart(t, exampleValues())
	for _, p := range checkObjects(objs, "serve") {
		t.Error(p)
	}
	d := deploymentOf(t, objs)
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != image+":v0.1.0" {
		t.Errorf("image %q: want the chart's appVersion v0.1.0, as infra/k8s pins", c.Image)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e, ok := env["GOMEMLIMIT"]; !ok || e.ValueFrom == nil || e.ValueFrom.ResourceFieldRef == nil || e.ValueFrom.ResourceFieldRef.Resource != "limits.memory" {
		t.Errorf("GOMEMLIMIT must come from limits.memory: %+v", env["GOMEMLIMIT"])
	}
	for k, want := range map[string]string{"BIRDWATCH_GIT_TOKEN_FILE": "/etc/birdwatch/secrets/git-token",
		"BIRDWATCH_GITHUB_WEBHOOK_SECRET_FILE": "/etc/birdwatch/secrets/github-webhook-secret", "BIRDWATCH_ADDR": ":8080"} {
		if env[k].Value != want {
			t.Errorf("%s = %q, want %q", k, env[k].Value, want)
		}
	}
	cm := configMapOf(t, objs)
	for k, want := range map[string]string{"BIRDWATCH_REPO": "https://github.com/acme/fleet", "BIRDWATCH_BRANCH": "main",
		"BIRDWATCH_LOG_FORMAT": "json", "BIRDWATCH_EVERY": "1m", "BIRDWATCH_CACHE_DIR": "/var/cache/birdwatch"} {
		if cm[k] != want {
			t.Errorf("ConfigMap %s = %q, want %q", k, cm[k], want)
		}
	}
	if _, ok := cm["BIRDWATCH_UI"]; ok {
		t.Errorf("an empty setting is in the ConfigMap: %v", cm)
	}
}

// TestHelmChartValues changes the values a deployment changes and checks
// that each reaches the objects.
func TestHelmChartValues(t *testing.T) {
	v := exampleValues()
	v["image"] = map[string]any{"tag": "v0.2.0"}
	v["resources"] = map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "200Mi"}, "limits": map[string]any{"memory": "1Gi"}}
	v["settings"].(map[string]any)["BIRDWATCH_UI"] = true
	// Helm merges maps with the defaults; null removes a default.
	v["secret"] = map[string]any{"files": map[string]any{"BIRDWATCH_SLACK_BOT_TOKEN_FILE": "slack", "BIRDWATCH_GITHUB_WEBHOOK_SECRET_FILE": nil}}
	v["replicaCount"] = 2
	objs := renderChart(t, v)
	for _, p := range checkObjects(objs, "serve") {
		t.Error(p)
	}
	d := deploymentOf(t, objs)
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != image+":v0.2.0" || *d.Spec.Replicas != 2 || c.Resources.Limits.Memory().String() != "1Gi" {
		t.Errorf("image %s, replicas %d, memory limit %s", c.Image, *d.Spec.Replicas, c.Resources.Limits.Memory())
	}
	var files []string
	for _, e := range c.Env {
		if strings.HasSuffix(e.Name, "_FILE") {
			files = append(files, e.Name+"="+e.Value)
		}
	}
	if want := []string{"BIRDWATCH_GIT_TOKEN_FILE=/etc/birdwatch/secrets/git-token", "BIRDWATCH_SLACK_BOT_TOKEN_FILE=/etc/birdwatch/secrets/slack"}; !slices.Equal(files, want) {
		t.Errorf("file settings %v, want %v", files, want)
	}
	if cm := configMapOf(t, objs); cm["BIRDWATCH_UI"] != "true" {
		t.Errorf("BIRDWATCH_UI = %q", cm["BIRDWATCH_UI"])
	}
}

// TestHelmChartRefuses checks the values the chart refuses, with a message
// naming the value.
func TestHelmChartRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"no repository", func(v map[string]any) { delete(v["settings"].(map[string]any), "BIRDWATCH_REPO") }, "settings.BIRDWATCH_REPO: the GitOps repository"},
		{"a secret as a setting", func(v map[string]any) { v["settings"].(map[string]any)["BIRDWATCH_GIT_TOKEN_FILE"] = "/x" }, "settings.BIRDWATCH_GIT_TOKEN_FILE: a file setting points into a Secret"},
		{"not a birdwatch setting", func(v map[string]any) { v["settings"].(map[string]any)["REPO"] = "x" }, "settings.REPO: settings are BIRDWATCH_* variables"},
		{"a secret key that is no file setting", func(v map[string]any) {
			v["secret"] = map[string]any{"files": map[string]any{"BIRDWATCH_GIT_TOKEN": "git-token"}}
		}, "secret.files.BIRDWATCH_GIT_TOKEN: keys are BIRDWATCH_*_FILE settings"},
		{"no memory limit", func(v map[string]any) { v["resources"] = map[string]any{"limits": nil} }, "resources.limits.memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := exampleValues()
			tt.edit(v)
			_, err := tryRenderChart(t, v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("render = %v; want an error with %q", err, tt.want)
			}
		})
	}
}

// TestHelmChartNotifySecret mounts the second Secret for spec.notify and
// the hooks' signing key.
func TestHelmChartNotifySecret(t *testing.T) {
	v := exampleValues()
	v["notifySecret"] = map[string]any{"name": "birdwatch-notify"}
	d := deploymentOf(t, renderChart(t, v))
	c := d.Spec.Template.Spec.Containers[0]
	var dir string
	for _, e := range c.Env {
		if e.Name == "BIRDWATCH_NOTIFY_SECRETS_DIR" {
			dir = e.Value
		}
	}
	mounted := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == dir && m.ReadOnly })
	secret := slices.ContainsFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool {
		return v.Secret != nil && v.Secret.SecretName == "birdwatch-notify"
	})
	if dir == "" || !mounted || !secret {
		t.Errorf("BIRDWATCH_NOTIFY_SECRETS_DIR %q, mounted read-only %v, volume of birdwatch-notify %v", dir, mounted, secret)
	}
}

// TestHelmChartSettingsAreDocumented checks every setting the chart's
// values name against the README's settings table: it must exist and be
// one birdwatch serve reads.
func TestHelmChartSettingsAreDocumented(t *testing.T) {
	modes := readmeSettings(t)
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for k := range ch.Values["settings"].(map[string]any) {
		names = append(names, k)
	}
	for k := range ch.Values["secret"].(map[string]any)["files"].(map[string]any) {
		names = append(names, k)
	}
	// The commented-out secret.files lines are settings too.
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`#\s*(BIRDWATCH_[A-Z0-9_]+):`).FindAllStringSubmatch(string(raw), -1) {
		names = append(names, m[1])
	}
	sort.Strings(names)
	for _, n := range slices.Compact(names) {
		mode, ok := modes[n]
		if !ok {
			t.Errorf("values.yaml names %s, which is not in the README's settings table", n)
		} else if !strings.Contains(mode, "serve") {
			t.Errorf("values.yaml names %s, which serve does not read (modes: %s)", n, mode)
		}
	}
}

// readmeSettings reads the README's settings table: variable -> modes.
func readmeSettings(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	row := regexp.MustCompile("^\\| `(BIRDWATCH_[A-Z0-9_]+)` \\|[^|]*\\|[^|]*\\| ([a-z, ]+) \\|")
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		if m := row.FindStringSubmatch(s.Text()); m != nil {
			out[m[1]] = m[2]
		}
	}
	if len(out) < 30 {
		t.Fatalf("found %d settings in the README's table", len(out))
	}
	return out
}

// TestHelmLint runs Helm's linter (what `helm lint` runs) on the chart.
func TestHelmLint(t *testing.T) {
	l := lint.RunAll(chartDir, exampleValues(), namespace)
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

func deploymentOf(t *testing.T, objs []runtime.Object) *appsv1.Deployment {
	t.Helper()
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok {
			return d
		}
	}
	t.Fatal("no Deployment")
	return nil
}

func configMapOf(t *testing.T, objs []runtime.Object) map[string]string {
	t.Helper()
	for _, o := range objs {
		if cm, ok := o.(*corev1.ConfigMap); ok {
			return cm.Data
		}
	}
	t.Fatal("no ConfigMap")
	return nil
}
