package service

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// lifecycle is a Service over a fresh SQLite file with one account's admin,
// readonly and another account's callers, and the platform's.
type lifecycle struct {
	s                          *Service
	admin, ro, other, platform Caller
	account                    string
}

func newLifecycle(t *testing.T) *lifecycle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := New(st, Options{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	a, err := s.CreateAccount(ctx, "a")
	must(err)
	b, err := s.CreateAccount(ctx, "b")
	must(err)
	ro, err := s.CreateCredential(ctx, a.AccountID, RoleReadOnly)
	must(err)
	pk, err := s.CreatePlatformKey(ctx)
	must(err)
	caller := func(secretID string) Caller {
		t.Helper()
		c, err := s.LookupCredential(ctx, secretID)
		must(err)
		return c.Caller("ap-guangzhou", "req")
	}
	return &lifecycle{s: s, admin: caller(a.SecretID), ro: caller(ro.SecretID), other: caller(b.SecretID),
		platform: caller(pk.SecretID), account: a.AccountID}
}

func (l *lifecycle) group(t *testing.T, name string, ingress ...string) string {
	t.Helper()
	in := CreateGroupInput{Name: name, Policies: &PolicySetInput{}}
	for _, r := range ingress {
		p, err := policy.ParsePolicy(r)
		if err != nil {
			t.Fatal(err)
		}
		in.Policies.Ingress = append(in.Policies.Ingress, PolicyInput{Raw: p.Raw()})
	}
	g, _, err := l.s.CreateSecurityGroup(context.Background(), l.admin, in)
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

func (l *lifecycle) register(t *testing.T, name, ip string, groups ...string) string {
	t.Helper()
	ids, err := l.s.RegisterInstances(context.Background(), l.platform, RegisterInstancesInput{AccountID: l.account, Instances: []InstanceSpec{
		{InstanceName: name, Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{ip}, SecurityGroupIDs: groups}}})
	if err != nil {
		t.Fatal(err)
	}
	return ids[0]
}

// states returns each listed instance's "STATE groups…".
func (l *lifecycle) states(t *testing.T, ids ...string) []string {
	t.Helper()
	list, _, err := l.s.DescribeInstances(context.Background(), l.admin, InstanceQuery{IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]string{}
	for _, in := range list {
		by[in.ID] = strings.Join(append([]string{string(in.State)}, in.SecurityGroupIDs...), " ")
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = by[id]
	}
	return out
}

func errKind(err error) (Kind, string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, e.Message
	}
	return 0, ""
}

// TestInstanceLifecycle walks instances through RUNNING, STOPPED, RECYCLED
// and TERMINATED: each step's error kind and message, and every instance's
// state and bindings after it (a rejected step changes none).
func TestInstanceLifecycle(t *testing.T) {
	ctx := context.Background()
	l := newLifecycle(t)
	g := l.group(t, "g")
	a, b, c := l.register(t, "a", "10.0.0.1", g), l.register(t, "b", "10.0.0.2", g), l.register(t, "c", "10.0.0.3")
	ops := map[string]func(Caller, []string) error{
		"stop":      func(c Caller, ids []string) error { return l.s.StopInstances(ctx, c, ids) },
		"start":     func(c Caller, ids []string) error { return l.s.StartInstances(ctx, c, ids) },
		"terminate": func(c Caller, ids []string) error { return l.s.TerminateInstances(ctx, c, ids) },
		"purge":     func(c Caller, ids []string) error { return l.s.PurgeInstances(ctx, c, ids) },
	}
	steps := []struct {
		name    string
		op      string
		as      Caller // default: the admin
		ids     []string
		kind    Kind   // expected error kind, 0 for success
		message string // in the error's message
		want    []string
	}{
		{name: "stop two", op: "stop", ids: []string{a, b}, want: []string{"STOPPED " + g, "STOPPED " + g, "RUNNING"}},
		{name: "stop again is a no-op", op: "stop", ids: []string{a}, want: []string{"STOPPED " + g, "STOPPED " + g, "RUNNING"}},
		{name: "start one", op: "start", ids: []string{b}, want: []string{"STOPPED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "start a running one is a no-op", op: "start", ids: []string{b, c}, want: []string{"STOPPED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "no ids", op: "stop", ids: nil, kind: KindInvalid, want: []string{"STOPPED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "unknown id: none stopped", op: "stop", ids: []string{b, "ins-00000000"}, kind: KindNotFound, message: "ins-00000000",
			want: []string{"STOPPED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "another account's instance", op: "start", as: l.other, ids: []string{a}, kind: KindNotFound,
			want: []string{"STOPPED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "readonly", op: "stop", as: l.ro, ids: []string{b}, kind: KindForbidden, want: []string{"STOPPED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "the platform does not stop instances", op: "stop", as: l.platform, ids: []string{b}, kind: KindForbidden,
			want: []string{"STOPPED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "purge a stopped one: none purged", op: "purge", ids: []string{a}, kind: KindUnsupported, message: a + " is STOPPED",
			want: []string{"STOPPED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "recycle a stopped one", op: "terminate", ids: []string{a}, want: []string{"RECYCLED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "start a recycled one: none started", op: "start", ids: []string{b, a}, kind: KindUnsupported, message: a + " is RECYCLED",
			want: []string{"RECYCLED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "stop a recycled one: none stopped", op: "stop", ids: []string{c, a}, kind: KindUnsupported, message: a + " is RECYCLED",
			want: []string{"RECYCLED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "purge a recycled and a running one: none purged", op: "purge", ids: []string{a, b}, kind: KindUnsupported, message: b + " is RUNNING",
			want: []string{"RECYCLED " + g, "RUNNING " + g, "RUNNING"}},
		{name: "purge the recycled one", op: "purge", as: l.platform, ids: []string{a}, want: []string{"TERMINATED", "RUNNING " + g, "RUNNING"}},
		{name: "purge it again", op: "purge", ids: []string{a}, kind: KindUnsupported, message: a + " is TERMINATED",
			want: []string{"TERMINATED", "RUNNING " + g, "RUNNING"}},
		{name: "start a terminated one", op: "start", ids: []string{a}, kind: KindUnsupported, message: a + " is TERMINATED",
			want: []string{"TERMINATED", "RUNNING " + g, "RUNNING"}},
		{name: "stop a terminated one", op: "stop", ids: []string{a}, kind: KindUnsupported, want: []string{"TERMINATED", "RUNNING " + g, "RUNNING"}},
	}
	for _, st := range steps {
		as := st.as
		if as == (Caller{}) {
			as = l.admin
		}
		err := ops[st.op](as, st.ids)
		kind, msg := errKind(err)
		switch {
		case st.kind == 0 && err != nil:
			t.Errorf("%s: %v", st.name, err)
		case st.kind != 0 && kind != st.kind:
			if st.kind != KindInvalid || policy.FieldErrors(err) == nil {
				t.Errorf("%s: error %v (kind %v), want kind %v", st.name, err, kind, st.kind)
			}
		case !strings.Contains(msg, st.message):
			t.Errorf("%s: message %q does not contain %q", st.name, msg, st.message)
		}
		if got := l.states(t, a, b, c); !slices.Equal(got, st.want) {
			t.Errorf("%s: states %q, want %q", st.name, got, st.want)
		}
	}
}

// TestDescribeStoppedInstances: DescribeInstances reports STOPPED, and its
// instance-state filter takes it in any case.
func TestDescribeStoppedInstances(t *testing.T) {
	ctx := context.Background()
	l := newLifecycle(t)
	a, b := l.register(t, "a", "10.0.0.1"), l.register(t, "b", "10.0.0.2")
	if err := l.s.StopInstances(ctx, l.admin, []string{b}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		values []string
		want   []string
	}{
		{[]string{"STOPPED"}, []string{b}},
		{[]string{"stopped"}, []string{b}},
		{[]string{"RUNNING"}, []string{a}},
		{[]string{"RUNNING", "STOPPED"}, []string{a, b}},
		{[]string{"RECYCLED"}, nil},
	} {
		list, total, err := l.s.DescribeInstances(ctx, l.admin, InstanceQuery{Filters: []Filter{{Name: "instance-state", Values: tt.values}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, in := range list {
			got = append(got, in.ID)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tt.want))
		if !slices.Equal(got, want) || total != len(want) {
			t.Errorf("instance-state %v = %v (total %d), want %v", tt.values, got, total, want)
		}
	}
}

// TestStateChangeAttributed checks how a state change reaches the
// simulation cache: it is logged against the instance, so the lists of an
// instance whose policies reference the stopped instance's group, and the
// stopped instance's own, are compiled again, while an unrelated
// instance's are kept. A stopped member still counts in the reference; a
// purged one no longer does.
func TestStateChangeAttributed(t *testing.T) {
	ctx := context.Background()
	l := newLifecycle(t)
	ref := l.group(t, "ref")
	db := l.group(t, "db", "ACCEPT TCP 3306 "+ref)
	lone := l.group(t, "lone", "ACCEPT TCP 22 10.0.0.0/8")
	member := l.register(t, "member", "10.0.0.5", ref)
	target := l.register(t, "target", "10.0.0.9", db)
	bystander := l.register(t, "bystander", "10.0.0.10", lone)
	compiled := func(id string) *simEntry {
		t.Helper()
		e, err := l.s.simulation(ctx, l.admin, id)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	verdict := func() policy.Action {
		t.Helper()
		d, err := l.s.SimulateTraffic(ctx, l.admin, SimulateInput{InstanceID: target, Direction: "INGRESS", Protocol: "TCP", Address: "10.0.0.5", Port: 3306})
		if err != nil {
			t.Fatal(err)
		}
		return d.Verdict
	}
	steps := []struct {
		name  string
		write func() error
		want  policy.Action
	}{
		{"member stopped", func() error { return l.s.StopInstances(ctx, l.admin, []string{member}) }, policy.Accept},
		{"member started", func() error { return l.s.StartInstances(ctx, l.admin, []string{member}) }, policy.Accept},
		{"member recycled", func() error { return l.s.TerminateInstances(ctx, l.admin, []string{member}) }, policy.Accept},
		{"member purged", func() error { return l.s.PurgeInstances(ctx, l.platform, []string{member}) }, policy.Drop},
	}
	for _, st := range steps {
		before := map[string]*simEntry{target: compiled(target), bystander: compiled(bystander), member: compiled(member)}
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for id, e := range before {
			after := compiled(id)
			if after.revision <= e.revision {
				t.Errorf("%s: %s compiled at revision %d, not after %d", st.name, id, after.revision, e.revision)
			}
			recompiled := after.ingress != e.ingress
			if want := id != bystander; recompiled != want {
				t.Errorf("%s: %s recompiled = %v, want %v", st.name, id, recompiled, want)
			}
		}
		if got := verdict(); got != st.want {
			t.Errorf("%s: 10.0.0.5 → %s:3306 = %v, want %v", st.name, target, got, st.want)
		}
	}
	// A no-op writes nothing: every entry stays as it is.
	if err := l.s.StartInstances(ctx, l.admin, []string{target}); err != nil {
		t.Fatal(err)
	}
	e := compiled(target)
	if err := l.s.StartInstances(ctx, l.admin, []string{target}); err != nil {
		t.Fatal(err)
	}
	if again := compiled(target); again != e {
		t.Errorf("starting a running instance changed its entry (revision %d → %d)", e.revision, again.revision)
	}
}
