package service_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

func TestOperatorAccounts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	accounts, err := f.svc.ListAccounts(ctx)
	// The fixture's clock stands still, so both accounts have one creation
	// time and their order is the ids'.
	slices.SortFunc(accounts, func(x, y service.AccountInfo) int { return strings.Compare(x.Name, y.Name) })
	if err != nil || len(accounts) != 2 || accounts[0].Name != "a" || accounts[1].Name != "b" {
		t.Fatalf("ListAccounts = %+v, %v", accounts, err)
	}
	if _, _, err := f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: "g"}); err != nil {
		t.Fatal(err)
	}
	err = f.svc.DeleteAccount(ctx, f.accountID)
	if kindOf(err) != service.KindInUse || !strings.Contains(err.Error(), "1 security groups") {
		t.Errorf("DeleteAccount(with a group) = %v, want KindInUse naming it", err)
	}
	b := accounts[1].AccountId
	if err := f.svc.DeleteAccount(ctx, b); err != nil {
		t.Fatalf("DeleteAccount(empty) = %v", err)
	}
	if _, err := f.svc.LookupCredential(ctx, f.other.SecretID); kindOf(err) != service.KindNotFound {
		t.Errorf("credential of a deleted account: %v, want KindNotFound", err)
	}
	if err := f.svc.DeleteAccount(ctx, b); kindOf(err) != service.KindNotFound {
		t.Errorf("DeleteAccount twice = %v, want KindNotFound", err)
	}
	// The name is free again.
	if _, err := f.svc.CreateAccount(ctx, "b"); err != nil {
		t.Errorf("CreateAccount(b) after delete = %v", err)
	}
}

func TestOperatorCredentials(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	creds, err := f.svc.ListCredentials(ctx, f.accountID)
	if err != nil || len(creds) != 2 {
		t.Fatalf("ListCredentials = %+v, %v; want the admin and readonly credentials", creds, err)
	}
	rot, err := f.svc.RotateCredential(ctx, f.admin.SecretID, false)
	if err != nil || rot.AccountID != f.accountID || rot.Role != service.RoleAdmin {
		t.Fatalf("RotateCredential = %+v, %v", rot, err)
	}
	for _, id := range []string{f.admin.SecretID, rot.SecretID} {
		if _, err := f.svc.LookupCredential(ctx, id); err != nil {
			t.Errorf("after rotation, %s: %v; want both working", id, err)
		}
	}
	if err := f.svc.SetCredentialDisabled(ctx, f.admin.SecretID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.LookupCredential(ctx, f.admin.SecretID); kindOf(err) != service.KindNotFound {
		t.Errorf("disabled credential: %v, want KindNotFound", err)
	}
	all, _ := f.svc.ListCredentials(ctx, f.accountID)
	disabled := 0
	for _, c := range all {
		if c.Disabled {
			disabled++
			if c.SecretId != f.admin.SecretID {
				t.Errorf("%s disabled, want %s", c.SecretId, f.admin.SecretID)
			}
		}
	}
	if len(all) != 3 || disabled != 1 {
		t.Errorf("credentials = %+v", all)
	}
	if err := f.svc.SetCredentialDisabled(ctx, f.admin.SecretID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.LookupCredential(ctx, f.admin.SecretID); err != nil {
		t.Errorf("enabled again: %v", err)
	}
	retired, err := f.svc.RotateCredential(ctx, rot.SecretID, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.LookupCredential(ctx, rot.SecretID); kindOf(err) != service.KindNotFound {
		t.Errorf("retired credential: %v", err)
	}
	if err := f.svc.DeleteCredential(ctx, retired.SecretID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{retired.SecretID, "AKIDnope"} {
		if err := f.svc.DeleteCredential(ctx, id); kindOf(err) != service.KindNotFound {
			t.Errorf("DeleteCredential(%s) = %v, want KindNotFound", id, err)
		}
		if err := f.svc.SetCredentialDisabled(ctx, id, true); kindOf(err) != service.KindNotFound {
			t.Errorf("SetCredentialDisabled(%s) = %v, want KindNotFound", id, err)
		}
	}
	if _, err := f.svc.ListCredentials(ctx, "acc-nope0000"); kindOf(err) != service.KindNotFound {
		t.Errorf("ListCredentials(unknown account) = %v", err)
	}
}

func TestOperatorHosts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	h1, err := f.svc.CreateHost(ctx, "hv-1")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := f.svc.CreateHost(ctx, "hv-2")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := f.svc.RegisterInstances(ctx, f.platform, service.RegisterInstancesInput{AccountID: f.accountID, Instances: []service.InstanceSpec{
		{InstanceName: "vm", OsType: "linux", Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0.5"}, HostID: h1.HostID}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteHost(ctx, h1.HostID); kindOf(err) != service.KindInUse || !strings.Contains(err.Error(), ids[0]) {
		t.Errorf("DeleteHost(with an instance) = %v", err)
	}
	if err := f.svc.DeleteHost(ctx, h2.HostID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.LookupCredential(ctx, h2.SecretID); kindOf(err) != service.KindNotFound {
		t.Errorf("credential of a deleted host: %v", err)
	}
	hosts, err := f.svc.ListHosts(ctx)
	if err != nil || len(hosts) != 1 || hosts[0].HostId != h1.HostID {
		t.Errorf("ListHosts = %+v, %v", hosts, err)
	}
}

func TestEnsureBootstrapWith(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{})
	for _, bad := range []service.PresetCredential{
		{SecretID: "short", SecretKey: "0123456789abcdef"},
		{SecretID: "AKID-with-dash", SecretKey: "0123456789abcdef"},
		{SecretID: "AKIDGOOD0001", SecretKey: "too short"},
		{SecretID: "AKIDGOOD0001", SecretKey: "has a space in it!!"},
	} {
		if _, err := svc.EnsureBootstrapWith(ctx, bad); kindOf(err) != service.KindInvalid {
			t.Errorf("EnsureBootstrapWith(%+v) = %v, want KindInvalid", bad, err)
		}
	}
	preset := service.PresetCredential{SecretID: "AKIDGOOD0001", SecretKey: "0123456789abcdef"}
	admin, err := svc.EnsureBootstrapWith(ctx, preset)
	if err != nil || admin == nil || admin.SecretID != preset.SecretID || admin.SecretKey != preset.SecretKey {
		t.Fatalf("EnsureBootstrapWith = %+v, %v", admin, err)
	}
	c, err := svc.LookupCredential(ctx, preset.SecretID)
	if err != nil || c.SecretKey != preset.SecretKey || c.Role != service.RoleAdmin || c.AccountID != admin.AccountID {
		t.Errorf("LookupCredential = %+v, %v", c, err)
	}
	again, err := svc.EnsureBootstrapWith(ctx, service.PresetCredential{SecretID: "AKIDOTHER0001", SecretKey: "0123456789abcdef"})
	if err != nil || again != nil {
		t.Errorf("second EnsureBootstrapWith = %+v, %v; want nil, nothing changed", again, err)
	}
	pk := service.PresetCredential{SecretID: "AKIDPLATFORM01", SecretKey: "platform-key-0123"}
	for i, want := range []bool{true, false} {
		created, err := svc.EnsurePlatformKey(ctx, pk)
		if err != nil || created != want {
			t.Errorf("EnsurePlatformKey #%d = %v, %v; want %v", i, created, err, want)
		}
	}
	if _, err := svc.EnsurePlatformKey(ctx, service.PresetCredential{SecretID: preset.SecretID, SecretKey: preset.SecretKey}); kindOf(err) != service.KindDuplicate {
		t.Errorf("EnsurePlatformKey over an admin credential = %v, want KindDuplicate", err)
	}
}
