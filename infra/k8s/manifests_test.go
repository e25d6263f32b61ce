package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestManifests builds both modes with kustomize (and kubectl, when on
// PATH), decodes every object strictly with client-go's scheme and checks it.
func TestManifests(t *testing.T) {
	tests := []struct {
		name, dir, mode string
	}{
		{name: "serve", dir: ".", mode: "serve"},
		{name: "cronjob", dir: "cronjob", mode: "cronjob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := buildAndDecode(t, tt.dir)
			for _, p := range checkObjects(objs, tt.mode) {
				t.Error(p)
			}
		})
	}
}

// TestManifestChecksCatch proves the checks can fail: each case breaks a
// copy of the manifests in one place and names the problem it must cause.
func TestManifestChecksCatch(t *testing.T) {
	tests := []struct {
		name, file, old, new, mode, want string
	}{
		{name: "write verb", file: "base/rbac.yaml", old: "resources: [applications]\n    verbs: [get, list, watch]",
			new: "resources: [applications]\n    verbs: [get, list, watch, patch]", mode: "serve", want: `verb "patch" is not read-only`},
		{name: "wildcard resource", file: "base/rbac.yaml", old: "resources: [helmreleases]", new: `resources: ["*"]`,
			mode: "serve", want: "wildcard"},
		{name: "gate cannot read statefulsets", file: "base/rbac.yaml", old: "resources: [deployments, statefulsets]",
			new: "resources: [deployments]", mode: "serve", want: "cannot read apps/statefulsets"},
		{name: "root user", file: "deployment.yaml", old: "runAsUser: 65532", new: "runAsUser: 0", mode: "serve", want: "non-root"},
		{name: "writable root", file: "cronjob/cronjob.yaml", old: "readOnlyRootFilesystem: true", new: "readOnlyRootFilesystem: false",
			mode: "cronjob", want: "read-only"},
		{name: "latest image", file: "kustomization.yaml", old: "newTag: v0.1.0", new: "newTag: latest", mode: "serve", want: "pinned to a tag"},
		{name: "probe path", file: "deployment.yaml", old: "          livenessProbe:\n            httpGet:\n              path: /healthz",
			new: "          livenessProbe:\n            httpGet:\n              path: /", mode: "serve", want: "liveness probe"},
		{name: "no memory limit", file: "deployment.yaml", old: "            limits:\n              memory: 256Mi\n", new: "",
			mode: "serve", want: "memory limit"},
		{name: "token in env", file: "cronjob/cronjob.yaml", old: "- name: BIRDWATCH_GIT_TOKEN_FILE\n                  value: /etc/birdwatch/secrets/git-token",
			new: "- name: BIRDWATCH_GIT_TOKEN\n                  value: ghp_0123456789", mode: "cronjob", want: "BIRDWATCH_GIT_TOKEN must be"},
		{name: "service misses pods", file: "service.yaml", old: "    app.kubernetes.io/component: serve", new: "    app.kubernetes.io/component: web",
			mode: "serve", want: "does not select"},
		{name: "overlapping runs", file: "cronjob/cronjob.yaml", old: "concurrencyPolicy: Forbid", new: "concurrencyPolicy: Allow",
			mode: "cronjob", want: "want Forbid"},
		{name: "unknown field", file: "deployment.yaml", old: "readOnlyRootFilesystem: true", new: "readOnlyRootFileSystem: true",
			mode: "serve", want: "decode"},
		{name: "cache on root fs", file: "base/kustomization.yaml", old: "BIRDWATCH_CACHE_DIR=/var/cache/birdwatch",
			new: "BIRDWATCH_CACHE_DIR=/var/lib/birdwatch", mode: "cronjob", want: "BIRDWATCH_CACHE_DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(".")); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, filepath.FromSlash(tt.file))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), tt.old); n != 1 {
				t.Fatalf("%s: the mutation's text occurs %d times, want 1: %q", tt.file, n, tt.old)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(b), tt.old, tt.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			build := dir
			if tt.mode == "cronjob" {
				build = filepath.Join(dir, "cronjob")
			}
			problems, err := buildAndCheck(build, tt.mode)
			if err != nil {
				problems = append(problems, err.Error())
			}
			for _, p := range problems {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Errorf("no problem containing %q; got %q", tt.want, problems)
		})
	}
}

// buildAndCheck builds dir with the kustomize library, decodes and checks it.
func buildAndCheck(dir, mode string) ([]string, error) {
	out, err := build(dir)
	if err != nil {
		return nil, err
	}
	objs, err := decode(out)
	if err != nil {
		return nil, err
	}
	return checkObjects(objs, mode), nil
}

// TestImageMatchesManifests checks that the Dockerfile's user is the one the
// pods run as, and that it starts the binary, so `args: [serve]` and
// `args: [run, --once]` are birdwatch's subcommands. (No Docker engine runs
// here, so the image itself is not built by the tests.)
func TestImageMatchesManifests(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var user, entry string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "USER "); ok {
			user = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "ENTRYPOINT "); ok {
			entry = strings.TrimSpace(v)
		}
	}
	if entry != `["/usr/local/bin/birdwatch"]` {
		t.Errorf("Dockerfile ENTRYPOINT %s, want the birdwatch binary", entry)
	}
	uid, gid, _ := strings.Cut(user, ":")
	for _, dir := range []string{".", "cronjob"} {
		for _, o := range buildAndDecode(t, dir) {
			var sc *corev1.PodSecurityContext
			switch x := o.(type) {
			case *appsv1.Deployment:
				sc = x.Spec.Template.Spec.SecurityContext
			case *batchv1.CronJob:
				sc = x.Spec.JobTemplate.Spec.Template.Spec.SecurityContext
			default:
				continue
			}
			if sc == nil || sc.RunAsUser == nil || sc.RunAsGroup == nil ||
				fmt.Sprint(*sc.RunAsUser) != uid || fmt.Sprint(*sc.RunAsGroup) != gid {
				t.Errorf("%s: the pod's runAsUser:runAsGroup differ from the image's USER %s", key(o), user)
			}
		}
	}
}
