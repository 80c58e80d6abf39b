package service

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// TestFeedTail checks the cache's tail of the feed against the store's own
// answer: for random revisions between writes of two accounts, the entries
// it returns are those the store returns for the account.
func TestFeedTail(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(st, Options{})
	var accounts []string
	var callers []Caller
	var groups []string
	for _, name := range []string{"a", "b"} {
		a, err := s.CreateAccount(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		cred, err := s.LookupCredential(ctx, a.SecretID)
		if err != nil {
			t.Fatal(err)
		}
		c := cred.Caller("ap-guangzhou", "r")
		g, _, err := s.CreateSecurityGroup(ctx, c, CreateGroupInput{Name: "g"})
		if err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, a.AccountID)
		callers = append(callers, c)
		groups = append(groups, g.ID)
	}
	writes := 0
	rng := rand.New(rand.NewPCG(1, 2))
	var tail feedTail
	for round := range 300 {
		for range rng.IntN(4) {
			writes++
			i := rng.IntN(2)
			desc := "d" + strconv.Itoa(writes)
			if err := s.ModifySecurityGroupAttribute(ctx, callers[i], ModifyGroupInput{SecurityGroupID: groups[i], Description: &desc}); err != nil {
				t.Fatal(err)
			}
		}
		err := st.View(ctx, func(tx store.Tx) error {
			head, err := tx.Revision(ctx)
			if err != nil {
				return err
			}
			account := accounts[rng.IntN(2)]
			rev := max(0, head-int64(rng.IntN(2*simChanges)))
			got, ok, err := tail.since(ctx, tx, rev, head, account)
			if err != nil {
				t.Fatalf("round %d: since(%d, head %d): %v", round, rev, head, err)
			}
			if ok != (head-rev <= simChanges) {
				t.Errorf("round %d: since(%d, head %d) ok = %v", round, rev, head, ok)
			}
			if !ok {
				return nil
			}
			_, want, err := tx.Changes(ctx, rev, account, simChanges)
			if err != nil {
				return err
			}
			if !slices.EqualFunc(got, want, func(a, b store.Change) bool { return a.Revision == b.Revision && a.AccountID == b.AccountID }) {
				t.Errorf("round %d: since(%d, head %d) = %d entries, store says %d", round, rev, head, len(got), len(want))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
