package chatops

import (
	"context"
	"errors"
	gosync "sync"
	"testing"
	"time"
)

func TestQueueRunsJobsOffTheRequest(t *testing.T) {
	var mu gosync.Mutex
	var ran []string
	done := make(chan struct{}, 3)
	q := NewQueue(func(ctx context.Context, j Job) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		mu.Lock()
		ran = append(ran, j.TriggerID)
		mu.Unlock()
		done <- struct{}{}
		return nil
	}, QueueOptions{Size: 4, Workers: 2})
	// The request's context is gone by the time the job runs.
	reqCtx, cancel := context.WithCancel(t.Context())
	for _, id := range []string{"a", "b", "c"} {
		if err := q.Dispatch(reqCtx, Job{TriggerID: id}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	for range 3 {
		<-done
	}
	if err := q.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 3 {
		t.Errorf("ran %v", ran)
	}
	if err := q.Dispatch(t.Context(), Job{}); !errors.Is(err, ErrQueueClosed) {
		t.Errorf("dispatch after close: %v", err)
	}
	if err := q.Close(t.Context()); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestQueueFullAndShutdown(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	q := NewQueue(func(ctx context.Context, j Job) error {
		started <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, QueueOptions{Size: 1, Workers: 1})
	if err := q.Dispatch(t.Context(), Job{TriggerID: "running"}); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := q.Dispatch(t.Context(), Job{TriggerID: "waiting"}); err != nil {
		t.Fatal(err)
	}
	if err := q.Dispatch(t.Context(), Job{TriggerID: "one too many"}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third job: %v, want ErrQueueFull", err)
	}
	// Close with an expired context cancels what runs and returns.
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	go func() {
		for range started { // the waiting job starts once the running one is cancelled
		}
	}()
	if err := q.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("close: %v", err)
	}
	close(started)
}
