package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// Opener opens another Store on one database, as another replica of the
// server (another process) would. It may be called from several goroutines
// at once.
type Opener func() (store.Store, error)

// RunReplicas runs the tests of several Stores over one database: database
// creates a fresh, empty database for each subtest and returns its Opener.
// The stores are closed when the subtest ends.
func RunReplicas(t *testing.T, database func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store, opener Opener)
	}{
		{"concurrent opens", testConcurrentOpens},
		{"wait wakes on another replica's write", testReplicaWait},
		{"concurrent versioned writes", testReplicaWrites},
		{"signatures remembered by several replicas", testReplicaSignatures},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opener := database(t)
			open := func(t *testing.T) store.Store {
				t.Helper()
				s, err := opener()
				if err != nil {
					t.Fatalf("open a replica: %v", err)
				}
				t.Cleanup(func() {
					if err := s.Close(); err != nil {
						t.Errorf("close a replica: %v", err)
					}
				})
				return s
			}
			tc.fn(t, open, opener)
		})
	}
}

// testConcurrentOpens opens a fresh database from several replicas at once:
// each migrates it or finds it migrated, and all then work on the same
// data.
func testConcurrentOpens(t *testing.T, _ func(t *testing.T) store.Store, opener Opener) {
	const n = 4
	stores := make([]store.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = opener() })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] == nil {
			t.Cleanup(func() { s.Close() })
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d of %d at once: %v", i+1, n, err)
		}
	}
	ctx := context.Background()
	for i, s := range stores {
		addAccount(t, s, fmt.Sprintf("acc-%08d", i+1))
	}
	for i, s := range stores {
		view(t, s, func(tx store.Tx) error {
			if got, err := tx.CountAccounts(ctx); err != nil || got != n {
				t.Errorf("replica %d: CountAccounts = %d, %v; want %d", i+1, got, err, n)
			}
			return nil
		})
		if rev := revision(t, s); rev != n {
			t.Errorf("replica %d: revision %d, want %d", i+1, rev, n)
		}
	}
}

// testReplicaWait checks that a write through one replica wakes Wait on
// another promptly (well within a second) and shows in its Changes.
func testReplicaWait(t *testing.T, open func(t *testing.T) store.Store, _ Opener) {
	ctx := context.Background()
	a, b := open(t), open(t)
	for i, pair := range [][2]store.Store{{a, b}, {b, a}, {a, b}} {
		waiter, writer := pair[0], pair[1]
		id := fmt.Sprintf("acc-%08d", i+1)
		head := revision(t, waiter)
		done := make(chan error, 1)
		go func() {
			time.Sleep(20 * time.Millisecond)
			done <- writer.Tx(ctx, func(tx store.Tx) error { return tx.CreateAccount(ctx, store.Account{ID: id, Name: id, Created: t0}) })
		}()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		start := time.Now()
		rev, err := waiter.Wait(wctx, head)
		took := time.Since(start)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err != nil || rev != head+1 {
			t.Fatalf("round %d: Wait(%d) = %d, %v; want %d", i+1, head, rev, err, head+1)
		}
		if took > time.Second {
			t.Errorf("round %d: Wait saw the other replica's write after %v, want well within a second", i+1, took)
		}
		_, got := changesSince(t, waiter, head, "")
		want := []store.Change{{AccountID: id, Accounts: acct(id), AccountRow: true}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round %d: Changes(%d) on the waiting replica = %+v, want %+v", i+1, head, got, want)
		}
	}
}

// testReplicaWrites runs optimistic, versioned updates of one group through
// two replicas at once, each read in a View and written by UpdateGroup at
// the version read, again after a version mismatch. No update may be lost:
// the group ends with one policy per successful update and its version
// counts them. Other writers set quotas of their own accounts at the same
// time, through both replicas: they must all succeed. Meanwhile a follower reads the feed through one replica; it
// must see every revision exactly once, in order, without a gap (a change
// committed after it read past its revision).
func testReplicaWrites(t *testing.T, open func(t *testing.T) store.Store, _ Opener) {
	ctx := context.Background()
	replicas := []store.Store{open(t), open(t)}
	const workers, updates = 3, 8 // per replica
	for i := range 1 + 2*workers {
		addAccount(t, replicas[i%2], fmt.Sprintf("acc-%08d", i+1))
	}
	g := group("sg-00000001", "acc-00000001", "ap-guangzhou", "g")
	tx(t, replicas[1], func(tx store.Tx) error { return tx.CreateGroup(ctx, g) })
	start := revision(t, replicas[0])

	var (
		mu        sync.Mutex
		wrote     []int // the ports of the policies added
		conflicts int
	)
	update := func(s store.Store, port int) error {
		for attempt := 0; ; attempt++ {
			if attempt == 1000 {
				return fmt.Errorf("port %d: no update in %d attempts", port, attempt)
			}
			var cur store.Group
			if err := s.View(ctx, func(tx store.Tx) error {
				var err error
				cur, err = tx.GetGroup(ctx, g.ID)
				return err
			}); err != nil {
				return err
			}
			next := cur
			next.Policies.Version = cur.Policies.Version + 1
			next.Policies.Ingress = append(slices.Clone(cur.Policies.Ingress), mustPolicy(fmt.Sprintf("ACCEPT TCP %d 10.0.0.0/8", port)))
			err := s.Tx(ctx, func(tx store.Tx) error { return tx.UpdateGroup(ctx, next, cur.Policies.Version) })
			switch {
			case err == nil:
				mu.Lock()
				wrote = append(wrote, port)
				mu.Unlock()
				return nil
			case errors.Is(err, store.ErrVersionMismatch), errors.Is(err, store.ErrBusy):
				mu.Lock()
				conflicts++
				mu.Unlock()
			default:
				return err
			}
		}
	}

	stop := make(chan struct{})
	followed := make(chan []int64, 1)
	followErr := make(chan error, 1)
	go func() {
		var revs []int64
		since := start
		for {
			// Stopped before the read starts: the read sees every write.
			stopped := false
			select {
			case <-stop:
				stopped = true
			default:
			}
			var head int64
			var got []store.Change
			err := replicas[0].View(ctx, func(tx store.Tx) error {
				var err error
				head, got, err = tx.Changes(ctx, since, "", 0)
				return err
			})
			if err != nil {
				followErr <- err
				return
			}
			for _, c := range got {
				revs = append(revs, c.Revision)
			}
			since = head
			if stopped && len(got) == 0 {
				followed <- revs
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, 4*workers)
	for r, s := range replicas {
		for w := range workers {
			wg.Go(func() {
				for u := range updates {
					if err := update(s, 1000+100*(r*workers+w)+u); err != nil {
						errs <- err
						return
					}
				}
			})
			// Writers of rows no other writer touches: nothing but the
			// store orders their commits and revisions.
			wg.Go(func() {
				account := fmt.Sprintf("acc-%08d", 2+r*workers+w)
				for u := range updates {
					if err := s.Tx(ctx, func(tx store.Tx) error { return tx.SetQuotaOverride(ctx, account, "groups", u) }); err != nil {
						errs <- fmt.Errorf("quota of %s: %w", account, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(stop)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var revs []int64
	select {
	case revs = <-followed:
	case err := <-followErr:
		t.Fatalf("follower: %v", err)
	}

	total := 2 * workers * updates
	var final store.Group
	view(t, replicas[1], func(tx store.Tx) error {
		var err error
		final, err = tx.GetGroup(ctx, g.ID)
		return err
	})
	if len(wrote) != total || final.Policies.Version != uint64(total) || len(final.Policies.Ingress) != total {
		t.Errorf("%d updates succeeded (%d conflicts); the group is at version %d with %d policies; want %d of each", len(wrote), conflicts, final.Policies.Version, len(final.Policies.Ingress), total)
	}
	t.Logf("%d updates, %d version conflicts retried", len(wrote), conflicts)
	var ports []int
	for _, p := range final.Policies.Ingress {
		ports = append(ports, policyPort(t, p))
	}
	slices.Sort(ports)
	slices.Sort(wrote)
	if !slices.Equal(ports, wrote) {
		t.Errorf("the group's policies have ports %v, want those written %v", ports, wrote)
	}
	head := revision(t, replicas[1])
	if head != start+2*int64(total) {
		t.Errorf("revision %d after %d updates and as many quotas set from %d, want %d", head, total, start, start+2*int64(total))
	}
	for i, r := range revs {
		if r != start+int64(i)+1 {
			t.Fatalf("the follower read revisions %v after %d: want each of %d..%d once, in order", revs, start, start+1, head)
		}
	}
	if int64(len(revs)) != head-start {
		t.Errorf("the follower read %d revisions after %d, want %d (to %d)", len(revs), start, head-start, head)
	}
}

// policyPort returns the port of a policy "ACCEPT TCP PORT …".
func policyPort(t *testing.T, p policy.Policy) int {
	t.Helper()
	var port int
	if _, err := fmt.Sscan(p.Raw().Port, &port); err != nil {
		t.Fatalf("policy %v: port %q: %v", p, p.Raw().Port, err)
	}
	return port
}

// RunLockRetries checks a write while another process holds the store's
// write lock: open returns a fresh store whose lock timeout is a few
// milliseconds, and hold, which takes that lock on the store's database
// from another connection and returns its release. A write waits for the
// lock, runs again, and succeeds once the lock is released, its function
// run once; held through every attempt, it fails with ErrBusy.
func RunLockRetries(t *testing.T, open func(t *testing.T) (s store.Store, hold func() (release func()))) {
	ctx := context.Background()
	tests := []struct {
		name    string
		holdFor time.Duration // 0: until the transaction returns
		wantErr error
	}{
		{"lock released during the retries", 20 * time.Millisecond, nil},
		{"lock held throughout", 0, store.ErrBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, hold := open(t)
			release := sync.OnceFunc(hold())
			start := time.Now()
			if tt.holdFor > 0 {
				time.AfterFunc(tt.holdFor, release)
			}
			calls := 0
			err := s.Tx(ctx, func(tx store.Tx) error {
				calls++
				return tx.CreateAccount(ctx, store.Account{ID: "acc-00000001", Name: "a"})
			})
			release()
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Tx = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (calls != 1 || time.Since(start) < tt.holdFor) {
				t.Errorf("Tx ran its function %d times, returned after %v; want once, after the lock was released", calls, time.Since(start))
			}
		})
	}
}
