package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fileLock is an exclusive flock(2) on one lock file per cache entry. flock
// locks belong to an open file description, so two Repos in one process
// exclude each other just like two processes do; the kernel drops the lock
// when the process dies, so a crashed invocation never wedges the cache.
//
// Hand-written on golang.org/x/sys/unix (already a dependency) instead of
// adding a flock module: it is ~40 lines and needs only LOCK_EX|LOCK_NB.
type fileLock struct {
	f *os.File
}

func openLock(path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	return &fileLock{f: f}, nil
}

// lock takes the exclusive lock, polling so that ctx can cancel the wait
// (a blocking flock cannot be interrupted). Polling starts at 1 ms and backs
// off to 50 ms.
func (l *fileLock) lock(ctx context.Context) error {
	delay := time.Millisecond
	for {
		err := unix.Flock(int(l.f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("lock %s: %w", l.f.Name(), err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wait for lock %s: %w", l.f.Name(), ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// try takes the lock exclusively (or shared) without waiting and reports
// whether it got it. On a descriptor that already holds the lock it converts
// the lock's mode.
func (l *fileLock) try(exclusive bool) (bool, error) {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err := unix.Flock(int(l.f.Fd()), how|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		case !errors.Is(err, unix.EINTR):
			return false, fmt.Errorf("lock %s: %w", l.f.Name(), err)
		}
	}
}

func (l *fileLock) unlock() error {
	if err := unix.Flock(int(l.f.Fd()), unix.LOCK_UN); err != nil {
		return fmt.Errorf("unlock %s: %w", l.f.Name(), err)
	}
	return nil
}

func (l *fileLock) close() error {
	return l.f.Close()
}
