package step

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// AssumedHooks is the HookCaller of dry runs (birdwatch diff, run
// --dry-run) and of the simulator: it calls nothing and answers as hooks
// that let the rollout go on would. Every type answers 200, except
// rollback, whose 2xx would roll the canary back: a rollback hook is
// taken not to ask for one. Log, when set, receives every call asked
// for, so that a dry run can say what it would have called. The zero
// value is ready to use; it is safe for concurrent use.
type AssumedHooks struct {
	Log *HookLog
}

// Call implements HookCaller.
func (a AssumedHooks) Call(_ context.Context, h spec.Webhook, p spec.HookPayload) spec.HookResult {
	if a.Log != nil {
		a.Log.add(HookCall{Hook: h, Payload: p})
	}
	if h.Type == spec.HookRollback {
		return spec.HookResult{Hook: h.Name, Type: h.Type, At: p.At, Error: "not called: assumed not to ask for a rollback"}
	}
	return spec.HookResult{Hook: h.Name, Type: h.Type, OK: true, Status: 200, At: p.At}
}

// HookCall is one webhook call a decision asked for.
type HookCall struct {
	Hook    spec.Webhook
	Payload spec.HookPayload
}

// String is "pre-rollout hook load-check: POST http://loadtester/gate".
func (c HookCall) String() string {
	return fmt.Sprintf("%s hook %s: POST %s", c.Hook.Type, c.Hook.Name, c.Hook.URL)
}

// HookLog collects the calls an AssumedHooks was asked for. The zero value
// is ready to use; it is safe for concurrent use.
type HookLog struct {
	mu    sync.Mutex
	calls []HookCall
}

func (l *HookLog) add(c HookCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// For returns the calls made for the canary namespace/name, in order.
func (l *HookLog) For(namespace, name string) []HookCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(l.calls), func(c HookCall) bool {
		return c.Payload.Namespace != namespace || c.Payload.Canary != name
	})
}
