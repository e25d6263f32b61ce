package core

// Status integrity (issue 18): with Engine.StatusKey, every commit that
// writes a status carries its seal, and the step checks a status against
// the last sealed one before acting on it (gitops/statusseal).

import (
	"context"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/statusseal"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

// historian is a Repository whose history statusseal can walk;
// *repo.Repo and *repo.GitHubRepo are.
type historian interface {
	StatusHistory() statusseal.History
}

// seals is the step's Seals port on the engine's repository.
type seals struct {
	key  []byte
	repo Repository
}

func (s seals) Check(ctx context.Context, snap step.Snapshot, c *spec.Canary) error {
	rs, ok := snap.(snapshot)
	h, hok := s.repo.(historian)
	if !ok || !hok {
		// Without a history there is no evidence either way: refuse to act
		// rather than trust the file.
		return &statusseal.Tampered{Canary: c.Key(), Why: "this repository's history cannot be read to check it"}
	}
	return statusseal.Check(ctx, h.StatusHistory(), plumbing.NewHash(rs.Commit()), s.key, c.Key(), c.StatusPath())
}

// change is the commit of res on parent: its files and message, plus,
// with a status key, the seal of the status it writes.
func (e *Engine) change(parent *repo.Snapshot, res *step.Result) repo.Change {
	ch := repo.Change{Files: res.Effects.Files, Message: res.Effects.Message}
	c := res.Canary
	if len(e.StatusKey) == 0 || c == nil || parent == nil {
		return ch
	}
	data, ok := ch.Files[c.StatusPath()]
	if !ok {
		return ch
	}
	seal := statusseal.SealContent(e.StatusKey, c.Key(), c.StatusPath(), data, plumbing.NewHash(parent.Commit()))
	ch.Message.Trailers = append(append([]repo.Trailer(nil), ch.Message.Trailers...), repo.Trailer{Key: statusseal.Trailer, Value: seal})
	return ch
}
