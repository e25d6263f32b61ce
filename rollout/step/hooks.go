package step

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// HookCaller calls one webhook (functions/hook.Client in the loop). Its
// result says whether the endpoint answered 2xx; it never fails otherwise.
type HookCaller interface {
	Call(ctx context.Context, h spec.Webhook, p spec.HookPayload) spec.HookResult
}

// maxHookAsks bounds the hook rounds of one decision: confirm-rollout,
// pre-rollout, the look's hooks.
const maxHookAsks = 4

// requireHooks calls the hooks the state machine asks for until it asks
// for none, and returns what it needs then.
func (p Ports) requireHooks(ctx context.Context, c *spec.Canary, in *rollout.Input, need rollout.Needs) rollout.Needs {
	for range maxHookAsks {
		if len(need.Hooks) == 0 {
			break
		}
		if in.Hooks == nil {
			in.Hooks = map[spec.HookType][]spec.HookResult{}
		}
		for t, rs := range p.callHooks(ctx, c, payloadBase(c, in), need.Hooks) {
			in.Hooks[t] = rs
		}
		need = rollout.Require(*in)
	}
	return need
}

// payloadBase is the payload of a call before the decision: the status
// read, or a rollout about to start at the manifest's weight.
func payloadBase(c *spec.Canary, in *rollout.Input) spec.HookPayload {
	p := spec.HookPayload{Canary: c.Metadata.Name, Namespace: c.Metadata.Namespace, Version: c.Spec.Canary, Stable: c.Spec.Stable,
		Phase: string(spec.PhaseProgressing), Weight: in.ManifestWeight, At: in.Now}
	if st := in.Status; st != nil && st.Generation == c.Spec.Canary {
		p.Phase, p.Weight, p.Step = string(st.Phase), st.Weight, st.Step
	}
	return p
}

// callHooks calls every hook of c of the types ts, concurrently, and
// returns their results by type, in spec order. With no caller configured
// every hook fails: a confirm hook holds, a rollout hook fails its look,
// never a pass.
func (p Ports) callHooks(ctx context.Context, c *spec.Canary, base spec.HookPayload, ts []spec.HookType) map[spec.HookType][]spec.HookResult {
	out := map[spec.HookType][]spec.HookResult{}
	var wg sync.WaitGroup
	for _, t := range ts {
		hooks := c.HooksOf(t)
		rs := make([]spec.HookResult, len(hooks))
		for i, h := range hooks {
			if p.Hooks == nil {
				rs[i] = spec.HookResult{Hook: h.Name, Type: t, At: base.At, Error: "no webhook client is configured"}
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				rs[i] = p.Hooks.Call(ctx, h, base) // each goroutine writes its own slot
			}()
		}
		out[t] = rs
	}
	wg.Wait()
	return out
}

// afterHooks calls the hooks a committed decision triggers (post-rollout
// once the rollout ends, event with every commit, see rollout.AfterHooks)
// and records their results in d. They run before the commit is pushed,
// so their results are in it; a commit retried after a concurrent push
// calls them again (at least once).
func (p Ports) afterHooks(ctx context.Context, c *spec.Canary, d *rollout.Decision, now time.Time) bool {
	ts := rollout.AfterHooks(c, *d)
	if len(ts) == 0 {
		return false
	}
	st := d.Status
	base := spec.HookPayload{Canary: c.Metadata.Name, Namespace: c.Metadata.Namespace, Version: c.Spec.Canary, Stable: c.Spec.Stable,
		Phase: string(st.Phase), Weight: st.Weight, Step: st.Step, At: now}
	byType := p.callHooks(ctx, c, base, ts)
	var rs []spec.HookResult
	for _, t := range ts {
		rs = append(rs, byType[t]...)
	}
	rollout.RecordHooks(c, &d.Status, rs)
	d.HookResults = append(d.HookResults, rs...)
	return true
}

// withHooksNote adds the hook results a decision used to its commit body.
func withHooksNote(body string, d rollout.Decision) string {
	note := rollout.HooksNote(d.HookResults)
	if note == "" {
		return body
	}
	return strings.TrimSpace(body + "\n\n" + note)
}

// restatus writes d's status into files again, after afterHooks recorded
// results in it; a snapshot that keeps statuses parsed has no status file.
func restatus(snap Snapshot, c *spec.Canary, d rollout.Decision, files map[string][]byte) error {
	if _, parsed := snap.(StatusReader); parsed {
		return nil
	}
	st := d.Status
	status, err := spec.MarshalStatus(&st)
	if err != nil {
		return err
	}
	files[c.StatusPath()] = status
	return nil
}
