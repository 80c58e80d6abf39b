package service

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// TestRecorderCoversTx makes every method of store.Tx a decision: either
// the recorder notes what it changes, or it changes nothing effective lists
// depend on. A method added to store.Tx fails this test until it is
// classified here (and, if it writes, handled by the recorder).
func TestRecorderCoversTx(t *testing.T) {
	recorded := []string{
		"UpdateAccount", "BumpRevision", "AddPlatformAddress", "DeletePlatformAddress",
		"CreateGroup", "UpdateGroup", "DeleteGroup", "CreateInstance", "UpdateInstance",
		"CreateTemplate", "UpdateTemplate", "DeleteTemplate",
	}
	irrelevant := []string{
		// Reads.
		"GetAccount", "FindAccountByName", "CountAccounts", "ListAccountEvents", "QuotaOverrides", "GetCredential", "GetHost",
		"ListPlatformAddresses", "GetGroup", "GetGroupByName", "GetDefaultGroup", "ListGroups", "CountGroups",
		"Referrers", "ListHistory", "GetInstance", "ListInstances", "CountBindings", "GetTemplate", "ListTemplates",
		"GetInstancePolicies", "ListMembers", "ResolveTemplates", "GetAccountGroup", "GetAccountInstance", "GetAccountTemplate",
		// Writes no verdict depends on.
		"CreateAccount", "AddAccountEvent", "SetQuotaOverride", "CreateCredential", "CreateHost", "AddHistory", "PruneHistory",
	}
	tx := reflect.TypeFor[store.Tx]()
	for i := range tx.NumMethod() {
		name := tx.Method(i).Name
		if slices.Contains(recorded, name) == slices.Contains(irrelevant, name) {
			t.Errorf("store.Tx.%s: classify it as recorded or irrelevant", name)
		}
	}
}

func TestChangeAffects(t *testing.T) {
	d := simDeps{account: "acc-a", instance: "ins-self", groups: []string{"sg-bound1", "sg-bound2"}, refs: []string{"sg-ref"},
		members: []string{"ins-m1", "ins-m2"}, templates: []string{"ipm-used", "ppm-used"}}
	tests := []struct {
		name string
		ch   change
		want bool
	}{
		{"nothing", change{}, false},
		{"account row", change{accounts: []string{"acc-a"}}, true},
		{"another account's row", change{accounts: []string{"acc-b"}}, false},
		{"bound group", change{groups: []string{"sg-bound2"}}, true},
		{"referenced group", change{groups: []string{"sg-ref"}}, true},
		{"other group", change{groups: []string{"sg-other"}}, false},
		{"the instance", change{instances: []instanceChange{{id: "ins-self"}}}, true},
		{"a member", change{instances: []instanceChange{{id: "ins-m2", groups: []string{"sg-x"}}}}, true},
		{"an instance joining the reference", change{instances: []instanceChange{{id: "ins-new", groups: []string{"sg-x", "sg-ref"}}}}, true},
		{"an instance elsewhere", change{instances: []instanceChange{{id: "ins-new", groups: []string{"sg-bound1"}}}}, false},
		{"template used", change{templates: []string{"ppm-used"}}, true},
		{"other template", change{templates: []string{"ppm-other"}}, false},
	}
	for _, tt := range tests {
		if got := tt.ch.affects(&d); got != tt.want {
			t.Errorf("%s: affects = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSimulatePromotes checks that the cache keeps an instance's compiled
// lists across writes that do not concern it, and compiles them again after
// one that does or after a write it did not see.
func TestSimulatePromotes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(st, Options{})
	acct, err := s.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := s.LookupCredential(ctx, acct.SecretID)
	if err != nil {
		t.Fatal(err)
	}
	c := cred.Caller("ap-guangzhou", "r")
	pk, err := s.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plat, err := s.LookupCredential(ctx, pk.SecretID)
	if err != nil {
		t.Fatal(err)
	}
	mine, _, err := s.CreateSecurityGroup(ctx, c, CreateGroupInput{Name: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, _, err := s.CreateSecurityGroup(ctx, c, CreateGroupInput{Name: "theirs"})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := s.RegisterInstances(ctx, plat.Caller("ap-guangzhou", "r"), RegisterInstancesInput{AccountID: acct.AccountID, Instances: []InstanceSpec{
		{InstanceName: "a", Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0.1"}, SecurityGroupIDs: []string{mine.ID}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	compiled := func() *simEntry {
		t.Helper()
		e, err := s.simulation(ctx, c, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	port := 0
	write := func(s *Service, g string) {
		t.Helper()
		port++
		in := PoliciesInput{SecurityGroupID: g, Set: PolicySetInput{Egress: []PolicyInput{{Raw: policy.Raw{Protocol: "TCP", Port: strconv.Itoa(port), CidrBlock: "192.0.2.1", Action: "ACCEPT"}}}}}
		if _, err := s.CreateSecurityGroupPolicies(ctx, c, in); err != nil {
			t.Fatal(err)
		}
	}
	first := compiled()
	write(s, theirs.ID)
	write(s, theirs.ID)
	if e := compiled(); e.ingress != first.ingress || e.revision <= first.revision {
		t.Errorf("after writes to another group: recompiled (revision %d → %d)", first.revision, e.revision)
	}
	write(s, mine.ID)
	second := compiled()
	if second.ingress == first.ingress {
		t.Error("after a write to the instance's group: not recompiled")
	}
	// A write through another Service on the same store.
	st2, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	write(New(st2, Options{}), theirs.ID)
	if e := compiled(); e.ingress == second.ingress {
		t.Error("after a write through another replica: not recompiled")
	}
}
