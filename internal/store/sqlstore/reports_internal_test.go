package sqlstore

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

// TestReportBatchOrder: while a batch commits, the reports queued wait;
// an urgent one goes before them, in the next batch, and a failing batch
// is committed again report by report.
func TestReportBatchOrder(t *testing.T) {
	var b reportBatch
	release := make(chan struct{})
	var mu sync.Mutex
	var batches [][]string
	once := func(ctx context.Context, fn func(store.Tx) error) error {
		var names []string
		err := fn(namer{names: &names})
		mu.Lock()
		batches = append(batches, names)
		first := len(batches) == 1
		mu.Unlock()
		if first {
			<-release
		}
		return err
	}
	report := func(ctx context.Context, name string, fail bool) chan error {
		done := make(chan error, 1)
		go func() {
			done <- b.run(ctx, func(tx store.Tx) error {
				tx.(namer).add(name)
				if fail {
					return errors.New("refused " + name)
				}
				return nil
			}, 1, once)
		}()
		return done
	}
	first := report(context.Background(), "first", false)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(batches) == 1 })
	var queued []chan error
	for _, n := range []string{"a", "b"} {
		queued = append(queued, report(context.Background(), n, false))
		waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.queue) == len(queued) })
	}
	bad := report(context.Background(), "bad", true)
	waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.queue) == 3 })
	urgent := report(store.Urgent(context.Background()), "urgent", false)
	waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.queue) == 4 })
	close(release)
	for _, c := range append(queued, first, urgent) {
		if err := <-c; err != nil {
			t.Errorf("report: %v", err)
		}
	}
	if err := <-bad; err == nil || err.Error() != "refused bad" {
		t.Errorf("the failing report: %v, want its own error", err)
	}
	want := [][]string{{"first"}, {"urgent", "a", "b", "bad"}, {"urgent"}, {"a"}, {"b"}, {"bad"}}
	if !slices.EqualFunc(batches, want, slices.Equal) {
		t.Errorf("batches %v, want %v", batches, want)
	}
}

// TestReportBatchCommitters: with several committers, batches commit at
// once, never more than allowed.
func TestReportBatchCommitters(t *testing.T) {
	var b reportBatch
	var now, most atomic.Int32
	once := func(ctx context.Context, fn func(store.Tx) error) error {
		n := now.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		now.Add(-1)
		return fn(nil)
	}
	var wg sync.WaitGroup
	var done atomic.Int32
	for range 200 {
		wg.Go(func() {
			if err := b.run(context.Background(), func(store.Tx) error { done.Add(1); return nil }, 4, once); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if done.Load() != 200 {
		t.Errorf("%d reports ran, want 200", done.Load())
	}
	if m := most.Load(); m < 2 || m > 4 {
		t.Errorf("%d batches committed at once, want 2 to 4", m)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running != 0 || len(b.queue) != 0 {
		t.Errorf("after: %d committing, %d queued", b.running, len(b.queue))
	}
}

// namer is a store.Tx that only records names.
type namer struct {
	store.Tx
	names *[]string
}

func (n namer) add(s string) { *n.names = append(*n.names, s) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("timed out")
		}
	}
}
