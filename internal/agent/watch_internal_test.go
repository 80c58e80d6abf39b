package agent

import (
	"testing"
	"time"

	"github.com/palisade-sg/palisade/wire"
)

// TestWatchFromExpiry: an applied state whose first policy has expired is
// fetched again, once for that expiry; before it, the watch waits no
// longer than until just after it.
func TestWatchFromExpiry(t *testing.T) {
	a := &Agent{o: Options{WatchWait: 30 * time.Second}}
	if rev, wait, expired := a.watchFrom(); rev != 0 || wait != 30*time.Second || expired {
		t.Errorf("nothing applied: watchFrom() = %d, %v, %v; want 0, 30s, false", rev, wait, expired)
	}
	soon := time.Now().Add(5 * time.Second).UTC().Format(time.RFC3339Nano)
	a.applied = &applied{state: wire.HostState{Revision: 7, Expires: soon}}
	if rev, wait, expired := a.watchFrom(); rev != 7 || wait > 6*time.Second || wait < 5*time.Second || expired {
		t.Errorf("a policy expiring in 5s: watchFrom() = %d, %v, %v; want 7, about 6s, false", rev, wait, expired)
	}
	past := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	a.applied = &applied{state: wire.HostState{Revision: 8, Expires: past}}
	if _, _, expired := a.watchFrom(); !expired {
		t.Error("a policy expired: watchFrom() does not fetch the state again")
	}
	// The state fetched again still names it (the server's clock is
	// behind): it is watched, not fetched again and again.
	if _, wait, expired := a.watchFrom(); expired || wait != 30*time.Second {
		t.Errorf("the same expiry again: watchFrom() = %v, %v; want a 30s watch", wait, expired)
	}
}
