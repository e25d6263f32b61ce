package spec

import (
	"slices"
)

// Validation of spec.traffic for the built-in providers: which fields each
// one requires and which it reads. A provider built elsewhere (known only
// to Checks.Provider) takes any field.

// validateTraffic checks spec.traffic and reports whether the provider is known.
func validateTraffic(t *Traffic, checks Checks, ps *problems) (providerOK bool) {
	providerOK = t.Provider != ""
	if t.Provider == "" {
		ps.add("spec.traffic.provider", "required")
	} else if checks.Provider != nil {
		if err := checks.Provider(t.Provider); err != nil {
			ps.add("spec.traffic.provider", "%v", err)
			providerOK = false
		}
	}
	checkRepoPath(ps, "spec.traffic.file", t.File)
	switch t.Provider {
	case "istio":
		validateIstio(t, ps)
	case "gatewayapi", "smi", "traefik", "contour", "apisix":
		requirePair(ps, t.Provider, "stableService", t.StableService, "canaryService", t.CanaryService)
	case "alb":
		requirePair(ps, t.Provider, "stableService", t.StableService, "canaryService", t.CanaryService)
		if t.Route == "" {
			ps.add("spec.traffic.route", "required for alb: the action name in the Ingress annotation alb.ingress.kubernetes.io/actions.<route>")
		}
	case "nginx":
		if t.Route == "" {
			ps.add("spec.traffic.route", "required for nginx: the canary Ingress's metadata.name")
		}
	case "yamlpath":
		if t.CanaryWeightPath == "" {
			ps.add("spec.traffic.canaryWeightPath", "required for yamlpath")
		}
		checkPaths(t, checks, ps, "canaryWeightPath", t.CanaryWeightPath, "stableWeightPath", t.StableWeightPath)
	case "replicas":
		validateReplicas(t, checks, ps)
	case "service":
		if t.ActiveService == "" {
			ps.add("spec.traffic.activeService", "required for service: the Service whose selector switches versions")
		}
		if t.PreviewService != "" && t.PreviewService == t.ActiveService {
			ps.add("spec.traffic.previewService", "must differ from activeService")
		}
	}
	checkUnusedTraffic(t, ps)
	return providerOK
}

// validateIstio checks istio's two forms: subsets, or hosts (services).
func validateIstio(t *Traffic, ps *problems) {
	subsets := t.StableSubset != "" || t.CanarySubset != ""
	hosts := t.StableService != "" || t.CanaryService != ""
	switch {
	case subsets && hosts:
		ps.add("spec.traffic", "istio splits by subset (stableSubset, canarySubset) or by host (stableService, canaryService), not both")
	case hosts:
		requirePair(ps, t.Provider, "stableService", t.StableService, "canaryService", t.CanaryService)
		if t.Host != "" {
			ps.add("spec.traffic.host", "not used when istio splits by host: stableService and canaryService are the hosts")
		}
	default:
		requirePair(ps, t.Provider, "stableSubset", t.StableSubset, "canarySubset", t.CanarySubset)
	}
}

// validateReplicas checks replicas' two forms: Deployment names, or replica
// count paths.
func validateReplicas(t *Traffic, checks Checks, ps *problems) {
	names := t.StableDeployment != "" || t.CanaryDeployment != ""
	paths := t.StableReplicasPath != "" || t.CanaryReplicasPath != ""
	switch {
	case names && paths:
		ps.add("spec.traffic", "replicas scales the Deployments (stableDeployment, canaryDeployment) or the counts at stableReplicasPath and canaryReplicasPath, not both")
	case paths:
		requirePair(ps, t.Provider, "stableReplicasPath", t.StableReplicasPath, "canaryReplicasPath", t.CanaryReplicasPath)
		checkPaths(t, checks, ps, "stableReplicasPath", t.StableReplicasPath, "canaryReplicasPath", t.CanaryReplicasPath)
	default:
		requirePair(ps, t.Provider, "stableDeployment", t.StableDeployment, "canaryDeployment", t.CanaryDeployment)
	}
	if t.TotalReplicas < 0 {
		ps.add("spec.traffic.totalReplicas", "must not be negative, got %d", t.TotalReplicas)
	}
}

// checkPaths checks two YAML paths with checks.Path; the second, if set,
// must differ from the first.
func checkPaths(t *Traffic, checks Checks, ps *problems, field1, path1, field2, path2 string) {
	for _, f := range []struct{ field, path string }{{field1, path1}, {field2, path2}} {
		if f.path == "" || checks.Path == nil {
			continue
		}
		if err := checks.Path(f.path); err != nil {
			ps.add("spec.traffic."+f.field, "%v", err)
		}
	}
	if path2 != "" && path2 == path1 {
		ps.add("spec.traffic."+field2, "must differ from %s", field1)
	}
}

// requirePair checks a provider's stable and canary fields: both set, and
// different.
func requirePair(ps *problems, provider, stableField, stable, canaryField, canary string) {
	if stable == "" {
		ps.add("spec.traffic."+stableField, "required for %s", provider)
	}
	if canary == "" {
		ps.add("spec.traffic."+canaryField, "required for %s", provider)
	}
	if stable != "" && stable == canary {
		ps.add("spec.traffic."+canaryField, "must differ from %s", stableField)
	}
}

// trafficFields returns the spec.traffic fields a built-in provider reads
// besides provider and file; ok is false for other kinds.
func trafficFields(provider string) (fields []string, ok bool) {
	switch provider {
	case "istio":
		return []string{"route", "host", "stableSubset", "canarySubset", "stableService", "canaryService"}, true
	case "gatewayapi", "smi", "traefik", "contour", "apisix", "alb":
		return []string{"route", "stableService", "canaryService"}, true
	case "nginx":
		return []string{"route"}, true
	case "yamlpath":
		return []string{"canaryWeightPath", "stableWeightPath"}, true
	case "replicas":
		return []string{"stableDeployment", "canaryDeployment", "stableReplicasPath", "canaryReplicasPath", "totalReplicas"}, true
	case "service":
		return []string{"activeService", "previewService", "versionLabel"}, true
	}
	return nil, false
}

// checkUnusedTraffic reports fields the provider ignores: a stableSubset
// given to gatewayapi is a mistake, not a setting.
func checkUnusedTraffic(t *Traffic, ps *problems) {
	used, ok := trafficFields(t.Provider)
	if !ok {
		return
	}
	total := ""
	if t.TotalReplicas != 0 {
		total = "set"
	}
	for _, f := range []struct{ name, value string }{
		{"route", t.Route}, {"host", t.Host}, {"stableSubset", t.StableSubset}, {"canarySubset", t.CanarySubset},
		{"stableService", t.StableService}, {"canaryService", t.CanaryService},
		{"canaryWeightPath", t.CanaryWeightPath}, {"stableWeightPath", t.StableWeightPath},
		{"stableDeployment", t.StableDeployment}, {"canaryDeployment", t.CanaryDeployment},
		{"stableReplicasPath", t.StableReplicasPath}, {"canaryReplicasPath", t.CanaryReplicasPath}, {"totalReplicas", total},
		{"activeService", t.ActiveService}, {"previewService", t.PreviewService}, {"versionLabel", t.VersionLabel},
	} {
		if f.value != "" && !slices.Contains(used, f.name) {
			ps.add("spec.traffic."+f.name, "not used by provider %s", t.Provider)
		}
	}
}
