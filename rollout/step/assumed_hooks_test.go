package step

import (
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

func TestAssumedHooks(t *testing.T) {
	log := &HookLog{}
	a := AssumedHooks{Log: log}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		typ    spec.HookType
		canary string
		ok     bool
	}{
		{spec.HookConfirmRollout, "aleph", true}, {spec.HookPreRollout, "aleph", true}, {spec.HookRollout, "beth", true},
		{spec.HookRollback, "aleph", false}, {spec.HookConfirmPromotion, "aleph", true}, {spec.HookPostRollout, "aleph", true}, {spec.HookEvent, "aleph", true},
	} {
		h := spec.Webhook{Name: "h", Type: tc.typ, URL: "http://x/" + string(tc.typ)}
		r := a.Call(t.Context(), h, spec.HookPayload{Canary: tc.canary, Namespace: "games", At: at})
		if r.OK != tc.ok || r.Hook != "h" || r.Type != tc.typ || !r.At.Equal(at) || (r.OK && r.Status != 200) || (!r.OK && r.Error == "") {
			t.Errorf("%s: %+v", tc.typ, r)
		}
	}
	if got := log.For("games", "aleph"); len(got) != 6 || got[2].Hook.Type != spec.HookRollback || got[0].String() != "confirm-rollout hook h: POST http://x/confirm-rollout" {
		t.Errorf("For(games, aleph) = %v", got)
	}
	if got := log.For("games", "beth"); len(got) != 1 {
		t.Errorf("For(games, beth) = %v", got)
	}
	if r := (AssumedHooks{}).Call(t.Context(), spec.Webhook{Type: spec.HookRollout}, spec.HookPayload{}); !r.OK {
		t.Errorf("without a log: %+v", r)
	}
}
