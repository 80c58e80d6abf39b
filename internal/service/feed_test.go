package service_test

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// feedFixture is a Service over a fresh store with an account (its admin
// caller c) and a platform caller; the rows of TestEveryWriteIsInTheFeed
// add to it as they go.
type feedFixture struct {
	t       *testing.T
	st      store.Store
	s       *service.Service
	account string
	c, plat service.Caller
	ids     map[string]string // what rows created, by name
}

func newFeedFixture(t *testing.T) *feedFixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &feedFixture{t: t, st: st, s: service.New(st, service.Options{}), ids: map[string]string{}}
	return f
}

func (f *feedFixture) caller(secretID string) service.Caller {
	f.t.Helper()
	cred, err := f.s.LookupCredential(context.Background(), secretID)
	if err != nil {
		f.t.Fatal(err)
	}
	return cred.Caller("ap-guangzhou", "req")
}

func (f *feedFixture) revision() int64 {
	f.t.Helper()
	var rev int64
	if err := f.st.View(context.Background(), func(tx store.Tx) error {
		var err error
		rev, err = tx.Revision(context.Background())
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	return rev
}

// changes returns the feed after since, times and revisions cleared.
func (f *feedFixture) changes(since int64) []store.Change {
	f.t.Helper()
	var out []store.Change
	if err := f.st.View(context.Background(), func(tx store.Tx) error {
		var err error
		_, out, err = tx.Changes(context.Background(), since, "", 0)
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	for i := range out {
		if out[i].Time.IsZero() {
			f.t.Errorf("change %d has no time", i)
		}
		out[i].Revision, out[i].Time = 0, time.Time{}
	}
	return out
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// TestEveryWriteIsInTheFeed runs every write the Service offers and checks
// that each commits exactly one feed entry naming what it changed. Every
// exported method of Service is a row here or is listed as a read; a new
// method fails the test until it is classified.
func TestEveryWriteIsInTheFeed(t *testing.T) {
	ctx := context.Background()
	reads := []string{
		"LookupCredential", "DescribeAccount", "AccountHistory", "PlatformAddresses", "Regions",
		"DescribeSecurityGroups", "DescribeSecurityGroupPolicies", "DescribeSecurityGroupAssociationStatistics",
		"DescribeSecurityGroupReferences", "DescribeSecurityGroupLimits", "DescribeInstances", "SimulateTraffic", "DescribeSecurityGroupFindings",
		"DescribeAddressTemplates", "DescribeAddressTemplateGroups", "DescribeServiceTemplates", "DescribeServiceTemplateGroups",
		"DescribeGroupTags", "PolicyVersion", "DescribeSecurityGroupHistory", "ListAccounts", "ListCredentials", "ListHosts",
		"DescribeHostState", "WatchHostState", "DescribeSecurityGroupPropagation", "WaitApplied", "DescribeSecurityGroupPolicyStatistics",
		"CheckReachability", "PreviewSecurityGroupChange",
	}
	// unrecorded writes store what hosts' agents report, which is not the
	// desired state: the feed records none of them (tested with the store
	// and end to end).
	// ConfirmSecurityGroupChange removes a pending confirmation, which is
	// not desired state either (tested end to end through the API).
	unrecorded := []string{"ReportHostStatus", "ConfirmSecurityGroupChange"}
	// composite writes run other writes, each in its own transaction.
	composite := []string{"SweepExpired", "RunExpirySweeper", "SweepUnconfirmed"}

	f := newFeedFixture(t)
	acct, err := f.s.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	f.account, f.c = acct.AccountID, f.caller(acct.SecretID)
	pk, err := f.s.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.plat = f.caller(pk.SecretID)
	a := f.account
	// What the operator's deletions and credential changes act on.
	gone, err := f.s.CreateAccount(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	goneHost, err := f.s.CreateHost(ctx, "gone-host")
	if err != nil {
		t.Fatal(err)
	}
	var creds [3]service.Credential
	for i := range creds {
		if creds[i], err = f.s.CreateCredential(ctx, a, service.RoleReadOnly); err != nil {
			t.Fatal(err)
		}
	}
	in := func(c store.Change) store.Change {
		c.AccountID, c.Accounts = a, []string{a}
		return c
	}
	raw := func(action, cidr string) policy.Raw {
		return policy.Raw{Protocol: "TCP", Port: "22", CidrBlock: cidr, Action: action}
	}
	zero := 0
	name := func(s string) *string { return &s }

	type row struct {
		method string
		// write runs the method; it returns the feed entry it must commit.
		write func(f *feedFixture) (store.Change, error)
	}
	rows := []row{
		{"CreateAccount", func(f *feedFixture) (store.Change, error) {
			b, err := f.s.CreateAccount(ctx, "b")
			return store.Change{AccountID: b.AccountID, Accounts: []string{b.AccountID}, AccountRow: true}, err
		}},
		{"EnsureBootstrap", func(*feedFixture) (store.Change, error) {
			g := newFeedFixture(t) // an empty store
			rev := g.revision()
			b, err := g.s.EnsureBootstrap(ctx)
			if err != nil || b == nil {
				return store.Change{}, err
			}
			if got := g.changes(rev); len(got) != 1 || got[0].AccountID != b.AccountID || !got[0].AccountRow {
				t.Errorf("EnsureBootstrap on an empty store: feed %+v, want the new account %s", got, b.AccountID)
			}
			// Once accounts exist it writes nothing; the row's own store
			// still gets one entry, from the write below.
			if _, err := f.s.EnsureBootstrap(ctx); err != nil {
				return store.Change{}, err
			}
			_, err = f.s.SetQuotas(ctx, a, service.Quotas{GroupsPerRegion: 50})
			return in(store.Change{}), err
		}},
		{"EnsureBootstrapWith", func(*feedFixture) (store.Change, error) {
			g := newFeedFixture(t) // an empty store
			rev := g.revision()
			b, err := g.s.EnsureBootstrapWith(ctx, service.PresetCredential{SecretID: "AKIDpreset0000000000000000000000000", SecretKey: "preset-key-0123456789abcdefghijklmnop"})
			if err != nil || b == nil {
				return store.Change{}, err
			}
			if got := g.changes(rev); len(got) != 1 || got[0].AccountID != b.AccountID || !got[0].AccountRow {
				t.Errorf("EnsureBootstrapWith on an empty store: feed %+v, want the new account %s", got, b.AccountID)
			}
			_, err = f.s.SetQuotas(ctx, a, service.Quotas{GroupsPerRegion: 49})
			return in(store.Change{}), err
		}},
		{"DeleteAccount", func(f *feedFixture) (store.Change, error) {
			err := f.s.DeleteAccount(ctx, gone.AccountID)
			return store.Change{AccountID: gone.AccountID, Accounts: []string{gone.AccountID}, AccountRow: true}, err
		}},
		{"DeleteHost", func(f *feedFixture) (store.Change, error) {
			err := f.s.DeleteHost(ctx, goneHost.HostID)
			return store.Change{Hosts: []string{goneHost.HostID}}, err
		}},
		{"SetCredentialDisabled", func(f *feedFixture) (store.Change, error) {
			return in(store.Change{}), f.s.SetCredentialDisabled(ctx, creds[0].SecretID, true)
		}},
		{"DeleteCredential", func(f *feedFixture) (store.Change, error) {
			return in(store.Change{}), f.s.DeleteCredential(ctx, creds[1].SecretID)
		}},
		{"RotateCredential", func(f *feedFixture) (store.Change, error) {
			_, err := f.s.RotateCredential(ctx, creds[2].SecretID, true)
			return in(store.Change{}), err
		}},
		{"AddPresetCredential", func(f *feedFixture) (store.Change, error) {
			return in(store.Change{}), f.s.AddPresetCredential(ctx, a, service.RoleReadOnly,
				service.PresetCredential{SecretID: "AKIDpreset1111111111111111111111111", SecretKey: "preset-key-1123456789abcdefghijklmnop"})
		}},
		{"EnsurePlatformKey", func(f *feedFixture) (store.Change, error) {
			_, err := f.s.EnsurePlatformKey(ctx, service.PresetCredential{SecretID: "AKIDpreset2222222222222222222222222", SecretKey: "preset-key-2123456789abcdefghijklmnop"})
			return store.Change{}, err
		}},
		{"CreateCredential", func(f *feedFixture) (store.Change, error) {
			_, err := f.s.CreateCredential(ctx, a, service.RoleReadOnly)
			return in(store.Change{}), err
		}},
		{"CreatePlatformKey", func(f *feedFixture) (store.Change, error) {
			_, err := f.s.CreatePlatformKey(ctx)
			return store.Change{}, err
		}},
		{"CreateHost", func(f *feedFixture) (store.Change, error) {
			h, err := f.s.CreateHost(ctx, "h")
			return store.Change{Hosts: []string{h.HostID}}, err
		}},
		{"SetQuotas", func(f *feedFixture) (store.Change, error) {
			_, err := f.s.SetQuotas(ctx, a, service.Quotas{GroupsPerRegion: 40})
			return in(store.Change{}), err
		}},
		{"AddPlatformAddress", func(f *feedFixture) (store.Change, error) {
			return store.Change{Platform: true}, f.s.AddPlatformAddress(ctx, mustPrefix("100.64.0.0/10"))
		}},
		{"RemovePlatformAddress", func(f *feedFixture) (store.Change, error) {
			return store.Change{Platform: true}, f.s.RemovePlatformAddress(ctx, mustPrefix("100.64.0.0/10"))
		}},
		{"UnblockPort25", func(f *feedFixture) (store.Change, error) {
			return in(store.Change{AccountRow: true}), f.s.UnblockPort25(ctx, f.c)
		}},
		{"CreateSecurityGroup", func(f *feedFixture) (store.Change, error) {
			g, _, err := f.s.CreateSecurityGroup(ctx, f.c, service.CreateGroupInput{Name: "g1"})
			f.ids["g1"] = g.ID
			return in(store.Change{Groups: []string{g.ID}}), err
		}},
		{"CreateDefaultSecurityGroup", func(f *feedFixture) (store.Change, error) {
			g, err := f.s.CreateDefaultSecurityGroup(ctx, f.c, 0)
			f.ids["g2"] = g.ID
			return in(store.Change{Groups: []string{g.ID}}), err
		}},
		{"ModifyGroupTags", func(f *feedFixture) (store.Change, error) {
			err := f.s.ModifyGroupTags(ctx, f.c, service.ModifyTagsInput{SecurityGroupID: f.ids["g1"],
				Replace: []service.Tag{{Key: "env", Value: "prod"}}, ReplaceGiven: true})
			return in(store.Change{Groups: []string{f.ids["g1"]}}), err
		}},
		{"ModifySecurityGroupAttribute", func(f *feedFixture) (store.Change, error) {
			err := f.s.ModifySecurityGroupAttribute(ctx, f.c, service.ModifyGroupInput{SecurityGroupID: f.ids["g1"], Name: name("g1b")})
			return in(store.Change{Groups: []string{f.ids["g1"]}}), err
		}},
		{"CreateSecurityGroupPolicies", func(f *feedFixture) (store.Change, error) {
			_, err := f.s.CreateSecurityGroupPolicies(ctx, f.c, service.PoliciesInput{SecurityGroupID: f.ids["g1"],
				Set: service.PolicySetInput{Ingress: []service.PolicyInput{{Raw: raw("ACCEPT", "10.0.0.0/8")}, {Raw: raw("DROP", "0.0.0.0/0")}}}})
			return in(store.Change{Groups: []string{f.ids["g1"]}}), err
		}},
		{"ReplaceSecurityGroupPolicy", func(f *feedFixture) (store.Change, error) {
			_, err := f.s.ReplaceSecurityGroupPolicy(ctx, f.c, service.PoliciesInput{SecurityGroupID: f.ids["g1"],
				Set: service.PolicySetInput{Ingress: []service.PolicyInput{{Index: &zero, Raw: raw("ACCEPT", "10.1.0.0/16")}}}})
			return in(store.Change{Groups: []string{f.ids["g1"]}}), err
		}},
		{"ReplaceSecurityGroupPolicies", func(f *feedFixture) (store.Change, error) {
			one := 1
			_, err := f.s.ReplaceSecurityGroupPolicies(ctx, f.c, service.ReplacePoliciesInput{PoliciesInput: service.PoliciesInput{SecurityGroupID: f.ids["g1"],
				Set: service.PolicySetInput{Ingress: []service.PolicyInput{{Index: &zero, Raw: raw("ACCEPT", "10.2.0.0/16")}, {Index: &one, Raw: raw("DROP", "0.0.0.0/0")}}}}, UpdateType: service.UpdatePolicy})
			return in(store.Change{Groups: []string{f.ids["g1"]}}), err
		}},
		{"ModifySecurityGroupPolicies", func(f *feedFixture) (store.Change, error) {
			_, err := f.s.ModifySecurityGroupPolicies(ctx, f.c, service.ModifyPoliciesInput{SecurityGroupID: f.ids["g1"],
				Set: service.PolicySetInput{Ingress: []service.PolicyInput{{Raw: raw("ACCEPT", "10.3.0.0/16")}, {Raw: raw("DROP", "0.0.0.0/0")}}}})
			return in(store.Change{Groups: []string{f.ids["g1"]}}), err
		}},
		{"RestoreSecurityGroupVersion", func(f *feedFixture) (store.Change, error) {
			_, err := f.s.RestoreSecurityGroupVersion(ctx, f.c, service.RestoreInput{SecurityGroupID: f.ids["g1"], Version: 1})
			return in(store.Change{Groups: []string{f.ids["g1"]}}), err
		}},
		{"DeleteSecurityGroupPolicies", func(f *feedFixture) (store.Change, error) {
			_, err := f.s.DeleteSecurityGroupPolicies(ctx, f.c, service.PoliciesInput{SecurityGroupID: f.ids["g1"],
				Set: service.PolicySetInput{Ingress: []service.PolicyInput{{Index: &zero}}}})
			return in(store.Change{Groups: []string{f.ids["g1"]}}), err
		}},
		{"CloneSecurityGroup", func(f *feedFixture) (store.Change, error) {
			g, err := f.s.CloneSecurityGroup(ctx, f.c, service.CloneInput{SecurityGroupID: f.ids["g1"], Name: name("clone")})
			f.ids["clone"] = g.ID
			return in(store.Change{Groups: []string{g.ID}}), err
		}},
		{"DeleteSecurityGroup", func(f *feedFixture) (store.Change, error) {
			return in(store.Change{Groups: []string{f.ids["clone"]}}), f.s.DeleteSecurityGroup(ctx, f.c, f.ids["clone"])
		}},
		{"RegisterInstances", func(f *feedFixture) (store.Change, error) {
			ids, err := f.s.RegisterInstances(ctx, f.plat, service.RegisterInstancesInput{AccountID: a, Instances: []service.InstanceSpec{
				{InstanceName: "i", Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0.1"}, SecurityGroupIDs: []string{f.ids["g1"]}}}})
			if err != nil {
				return store.Change{}, err
			}
			f.ids["ins"] = ids[0]
			return in(store.Change{Instances: ids, Members: []string{f.ids["g1"]}}), nil
		}},
		{"AssociateSecurityGroups", func(f *feedFixture) (store.Change, error) {
			err := f.s.AssociateSecurityGroups(ctx, f.c, service.BindInput{SecurityGroupIDs: []string{f.ids["g2"]}, InstanceIDs: []string{f.ids["ins"]}})
			return in(store.Change{Instances: []string{f.ids["ins"]}, Members: sortedIDs(f.ids["g1"], f.ids["g2"])}), err
		}},
		{"DisassociateSecurityGroups", func(f *feedFixture) (store.Change, error) {
			err := f.s.DisassociateSecurityGroups(ctx, f.c, service.BindInput{SecurityGroupIDs: []string{f.ids["g2"]}, InstanceIDs: []string{f.ids["ins"]}})
			return in(store.Change{Instances: []string{f.ids["ins"]}, Members: sortedIDs(f.ids["g1"], f.ids["g2"])}), err
		}},
		{"ModifyInstancesAttribute", func(f *feedFixture) (store.Change, error) {
			err := f.s.ModifyInstancesAttribute(ctx, f.c, service.ModifyInstancesInput{InstanceIDs: []string{f.ids["ins"]}, InstanceName: name("renamed")})
			return in(store.Change{Instances: []string{f.ids["ins"]}}), err
		}},
		{"StopInstances", func(f *feedFixture) (store.Change, error) {
			err := f.s.StopInstances(ctx, f.c, []string{f.ids["ins"]})
			return in(store.Change{Instances: []string{f.ids["ins"]}, Members: []string{f.ids["g1"]}}), err
		}},
		{"StartInstances", func(f *feedFixture) (store.Change, error) {
			err := f.s.StartInstances(ctx, f.c, []string{f.ids["ins"]})
			return in(store.Change{Instances: []string{f.ids["ins"]}, Members: []string{f.ids["g1"]}}), err
		}},
		{"TerminateInstances", func(f *feedFixture) (store.Change, error) {
			err := f.s.TerminateInstances(ctx, f.c, []string{f.ids["ins"]})
			return in(store.Change{Instances: []string{f.ids["ins"]}, Members: []string{f.ids["g1"]}}), err
		}},
		{"PurgeInstances", func(f *feedFixture) (store.Change, error) {
			err := f.s.PurgeInstances(ctx, f.plat, []string{f.ids["ins"]})
			return in(store.Change{Instances: []string{f.ids["ins"]}, Members: []string{f.ids["g1"]}}), err
		}},
	}
	for _, k := range []struct{ kind, entry string }{{"Address", "10.0.0.0/8"}, {"Service", "tcp:80"}} {
		entries := []service.TemplateEntry{{Value: k.entry}}
		rows = append(rows,
			row{"Create" + k.kind + "Template", func(f *feedFixture) (store.Change, error) {
				var id string
				var err error
				if k.kind == "Address" {
					var tp service.AddressTemplate
					tp, err = f.s.CreateAddressTemplate(ctx, f.c, service.TemplateInput{Name: "t", Entries: entries})
					id = tp.ID
				} else {
					var tp service.ServiceTemplate
					tp, err = f.s.CreateServiceTemplate(ctx, f.c, service.TemplateInput{Name: "t", Entries: entries})
					id = tp.ID
				}
				f.ids[k.kind] = id
				return in(store.Change{Templates: []string{id}}), err
			}},
			row{"Modify" + k.kind + "TemplateAttribute", func(f *feedFixture) (store.Change, error) {
				in2 := service.ModifyTemplateInput{ID: f.ids[k.kind], Name: name("t2")}
				modify := f.s.ModifyAddressTemplateAttribute
				if k.kind == "Service" {
					modify = f.s.ModifyServiceTemplateAttribute
				}
				return in(store.Change{Templates: []string{f.ids[k.kind]}}), modify(ctx, f.c, in2)
			}},
			row{"Create" + k.kind + "TemplateGroup", func(f *feedFixture) (store.Change, error) {
				gi := service.TemplateGroupInput{Name: "tg", TemplateIDs: []string{f.ids[k.kind]}}
				var id string
				var err error
				if k.kind == "Address" {
					var g service.AddressTemplateGroup
					g, err = f.s.CreateAddressTemplateGroup(ctx, f.c, gi)
					id = g.ID
				} else {
					var g service.ServiceTemplateGroup
					g, err = f.s.CreateServiceTemplateGroup(ctx, f.c, gi)
					id = g.ID
				}
				f.ids[k.kind+"Group"] = id
				return in(store.Change{Templates: []string{id}}), err
			}},
			row{"Modify" + k.kind + "TemplateGroupAttribute", func(f *feedFixture) (store.Change, error) {
				mi := service.ModifyTemplateGroupInput{ID: f.ids[k.kind+"Group"], Name: name("tg2")}
				modify := f.s.ModifyAddressTemplateGroupAttribute
				if k.kind == "Service" {
					modify = f.s.ModifyServiceTemplateGroupAttribute
				}
				return in(store.Change{Templates: []string{f.ids[k.kind+"Group"]}}), modify(ctx, f.c, mi)
			}},
			row{"Delete" + k.kind + "TemplateGroup", func(f *feedFixture) (store.Change, error) {
				del := f.s.DeleteAddressTemplateGroup
				if k.kind == "Service" {
					del = f.s.DeleteServiceTemplateGroup
				}
				return in(store.Change{Templates: []string{f.ids[k.kind+"Group"]}}), del(ctx, f.c, f.ids[k.kind+"Group"])
			}},
			row{"Delete" + k.kind + "Template", func(f *feedFixture) (store.Change, error) {
				del := f.s.DeleteAddressTemplate
				if k.kind == "Service" {
					del = f.s.DeleteServiceTemplate
				}
				return in(store.Change{Templates: []string{f.ids[k.kind]}}), del(ctx, f.c, f.ids[k.kind])
			}},
		)
	}

	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.method] = true
		t.Run(r.method, func(t *testing.T) {
			f.t = t
			rev := f.revision()
			want, err := r.write(f)
			if err != nil {
				t.Fatalf("%s: %v", r.method, err)
			}
			got := f.changes(rev)
			if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Errorf("%s: feed\n%+v\nwant exactly\n%+v", r.method, got, want)
			}
		})
	}

	typ := reflect.TypeFor[*service.Service]()
	for i := range typ.NumMethod() {
		m := typ.Method(i).Name
		n := 0
		for _, in := range [][]string{reads, composite, unrecorded} {
			if slices.Contains(in, m) {
				n++
			}
		}
		if covered[m] {
			n++
		}
		if n != 1 {
			t.Errorf("Service.%s: give it a row in this test, or list it as a read or a composite write (now in %d lists)", m, n)
		}
	}
}
