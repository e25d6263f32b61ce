package core

import "github.com/birdwatch-gitops/birdwatch/rollout/step"

// HookCaller calls one webhook of spec.analysis.webhooks
// (functions/hook.Client); see step.HookCaller.
type HookCaller = step.HookCaller
