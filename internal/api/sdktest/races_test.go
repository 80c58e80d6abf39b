package sdktest

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/palisade-sg/palisade/internal/store"
)

// racingStore interleaves, while armed, another writer's work into a
// transaction between the service's checks and its write, as a backend
// without serialised writers lets a concurrent request do.
type racingStore struct {
	store.Store
	armed *atomic.Bool
}

func (s racingStore) Tx(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Tx(ctx, func(tx store.Tx) error { return fn(racingTx{tx, s.armed}) })
}

type racingTx struct {
	store.Tx
	armed *atomic.Bool
}

// UpdateGroup lets another writer update the group first, once.
func (t racingTx) UpdateGroup(ctx context.Context, g store.Group, prevVersion uint64) error {
	if t.armed.CompareAndSwap(true, false) {
		other, err := t.Tx.GetGroup(ctx, g.ID)
		if err != nil {
			return err
		}
		other.Policies.Version++
		if err := t.Tx.UpdateGroup(ctx, other, other.Policies.Version-1); err != nil {
			return err
		}
	}
	return t.Tx.UpdateGroup(ctx, g, prevVersion)
}

// GetGroupByName answers for the moment before another writer took the
// name, once.
func (t racingTx) GetGroupByName(ctx context.Context, accountID, region, name string) (store.Group, error) {
	if t.armed.CompareAndSwap(true, false) {
		return store.Group{}, store.ErrNotFound
	}
	return t.Tx.GetGroupByName(ctx, accountID, region, name)
}

func TestStoreRacesReachTheirCodes(t *testing.T) {
	var armed atomic.Bool
	e := newEnv(t, envOptions{wrap: func(s store.Store) store.Store { return racingStore{s, &armed} }})
	id := e.group("web", []string{"ACCEPT TCP 22 10.0.0.0/8"}, nil)

	armed.Store(true)
	req := vpc.NewCreateSecurityGroupPoliciesRequest()
	req.SecurityGroupId = &id
	req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies("ACCEPT TCP 80 0.0.0.0/0")}
	_, err := e.vpc().CreateSecurityGroupPolicies(req)
	wantCode(t, "policy write losing the race for the group's version", err, "UnsupportedOperation.VersionMismatch")
	if set := e.describe(e.vpc(), id); *set.Version != "1" || len(set.Ingress) != 1 {
		t.Errorf("after the lost race: version %s, %d ingress policies; want 1 and 1 (nothing changed)", *set.Version, len(set.Ingress))
	}

	nextSecond() // e.group("web") sent this very body: a replay in the same second
	armed.Store(true)
	create := vpc.NewCreateSecurityGroupRequest()
	create.GroupName, create.GroupDescription = common.StringPtr("web"), common.StringPtr("")
	_, err = e.vpc().CreateSecurityGroup(create)
	wantCode(t, "group create losing the race for its name", err, "InvalidParameterValue.Duplicate")
}

func TestBusyStoreIsRetryable(t *testing.T) {
	e := newEnv(t, envOptions{busyTimeout: 5 * time.Millisecond})
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	create := vpc.NewCreateSecurityGroupRequest()
	create.GroupName, create.GroupDescription = common.StringPtr("web"), common.StringPtr("")
	_, err = e.vpc().CreateSecurityGroup(create)
	wantCode(t, "a write while another process holds the lock", err, "RequestLimitExceeded")
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	nextSecond() // the same signature again would be a replay
	if _, err := e.vpc().CreateSecurityGroup(create); err != nil {
		t.Errorf("the same write once the lock is released: %v", err)
	}
}
