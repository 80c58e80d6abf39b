package service

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/palisade-sg/palisade/internal/service/accounts"
	"github.com/palisade-sg/palisade/internal/store"
)

// Every API request looks up its credential. The credentials looked up
// are kept, each valid while the change feed, up to the store's revision
// read after the request arrived (store.Store.Head, one read shared by the
// requests of the moment), holds no write of its account (a credential is
// written only by writes that touch its account: see affectsCredential),
// and for at most credentialMaxAge: a request costs no transaction of its
// own for its credential, and a credential disabled or deleted — through
// any replica, or by an operator command on the store — is refused from
// the next request on.

// credentialMaxAge bounds how long a kept credential is used without
// reading it again. The feed check alone refuses a credential changed by
// any write; the bound only limits how long a change made behind the
// store's back (an UPDATE by hand) goes unseen. A second was a read per
// host and second, most of a fleet's database load.
const credentialMaxAge = time.Minute

// credentialEntries bounds the credentials kept.
const credentialEntries = 10_000

type credentialCache struct {
	mu sync.Mutex
	m  map[string]*keptCredential
}

type keptCredential struct {
	cred accounts.Credential
	rev  int64     // the feed's head before it was read
	read time.Time // when it was read
}

// affectsCredential reports whether change c may have written a
// credential of account (platform and host credentials: "").
func affectsCredential(c *store.Change, account string) bool {
	if account == "" {
		return len(c.Accounts) == 0
	}
	return c.AccountID == account || slices.Contains(c.Accounts, account)
}

// LookupCredential returns the credential of secretID (see
// accounts.Accounts.LookupCredential), kept from an earlier request when
// nothing since may have changed it.
func (s *Service) LookupCredential(ctx context.Context, secretID string) (Credential, error) {
	head, err := s.st.Head(ctx)
	if err != nil {
		return s.Accounts.LookupCredential(ctx, secretID)
	}
	now := s.now()
	if e := s.creds.kept(secretID, now); e != nil {
		if e.rev >= head {
			return e.cred, nil
		}
		cs, ok, _, err := s.feedChanges(ctx, e.rev, head)
		if err == nil && ok && !slices.ContainsFunc(cs, func(c store.Change) bool { return affectsCredential(&c, e.cred.AccountID) }) {
			s.creds.put(secretID, &keptCredential{cred: e.cred, rev: head, read: e.read})
			return e.cred, nil
		}
	}
	c, err := s.Accounts.LookupCredential(ctx, secretID)
	if err != nil {
		return c, err
	}
	s.creds.put(secretID, &keptCredential{cred: c, rev: head, read: now})
	return c, nil
}

// kept returns the credential of id if it was read less than
// credentialMaxAge before now.
func (k *credentialCache) kept(id string, now time.Time) *keptCredential {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.m[id]
	if e == nil || now.Sub(e.read) >= credentialMaxAge || now.Before(e.read) {
		return nil
	}
	return e
}

// put keeps e for id, unless one read later is kept.
func (k *credentialCache) put(id string, e *keptCredential) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if old := k.m[id]; old != nil && old.rev > e.rev {
		return
	}
	if k.m == nil || len(k.m) >= credentialEntries {
		k.m = map[string]*keptCredential{}
	}
	k.m[id] = e
}
