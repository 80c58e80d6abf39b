package sdktest

import (
	"slices"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
)

// TestStopStartInstances drives StopInstances and StartInstances through
// the SDK's cvm client: state changes, no-ops, the stop options the SDK
// sends, the error paths, and a stopped instance keeping its bindings and
// its place in the groups that reference its group.
func TestStopStartInstances(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.cvm()
	ref := e.group("ss-ref", nil, nil)
	db := e.group("ss-db", []string{"ACCEPT TCP 3306 " + ref}, nil)
	ids := e.register(gz, instance{name: "app", ip: "10.0.3.1"}, instance{name: "db", ip: "10.0.3.2"}, instance{name: "spare", ip: "10.0.3.3"})
	app, dbIns, spare := ids[0], ids[1], ids[2]
	e.bind(app, ref)
	e.bind(dbIns, db)

	states := func() []string {
		t.Helper()
		req := cvm.NewDescribeInstancesRequest()
		req.InstanceIds = common.StringPtrs(ids)
		res, err := c.DescribeInstances(req)
		if err != nil {
			t.Fatal(err)
		}
		by := map[string]string{}
		for _, in := range res.Response.InstanceSet {
			by[*in.InstanceId] = strings.Join(append([]string{*in.InstanceState}, common.StringValues(in.SecurityGroupIds)...), " ")
		}
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = by[id]
		}
		return out
	}
	stop := func(ids ...string) error {
		req := cvm.NewStopInstancesRequest()
		req.InstanceIds = common.StringPtrs(ids)
		req.StopType, req.StoppedMode, req.ForceStop = common.StringPtr("SOFT_FIRST"), common.StringPtr("STOP_CHARGING"), common.BoolPtr(true)
		_, err := c.StopInstances(req)
		return err
	}
	start := func(ids ...string) error {
		req := cvm.NewStartInstancesRequest()
		req.InstanceIds = common.StringPtrs(ids)
		_, err := c.StartInstances(req)
		return err
	}

	if err := stop(app, spare); err != nil {
		t.Fatalf("StopInstances: %v", err)
	}
	if got, want := states(), []string{"STOPPED " + ref, "RUNNING " + db, "STOPPED"}; !slices.Equal(got, want) {
		t.Errorf("after stop: %q, want %q", got, want)
	}
	// The stopped app still counts as a member of ref.
	if v := e.simulate(dbIns, "INGRESS", "TCP", "10.0.3.1", 3306); v.Verdict != "ACCEPT" || v.SecurityGroupId != db {
		t.Errorf("from a stopped member: %+v, want ACCEPT by %s", v, db)
	}
	// The instance-state filter takes STOPPED.
	req := cvm.NewDescribeInstancesRequest()
	req.Filters = []*cvm.Filter{{Name: common.StringPtr("instance-state"), Values: common.StringPtrs([]string{"STOPPED"})}}
	res, err := c.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	var stopped []string
	for _, in := range res.Response.InstanceSet {
		stopped = append(stopped, *in.InstanceId)
	}
	slices.Sort(stopped)
	if want := slices.Sorted(slices.Values([]string{app, spare})); !slices.Equal(stopped, want) || *res.Response.TotalCount != 2 {
		t.Errorf("instance-state STOPPED = %v (total %d), want %v", stopped, *res.Response.TotalCount, want)
	}
	// Stopping a stopped instance and starting a running one change nothing.
	if err := stop(app); err != nil {
		t.Errorf("stop a stopped instance: %v", err)
	}
	if err := start(dbIns, spare); err != nil {
		t.Fatalf("StartInstances: %v", err)
	}
	if got, want := states(), []string{"STOPPED " + ref, "RUNNING " + db, "RUNNING"}; !slices.Equal(got, want) {
		t.Errorf("after start: %q, want %q", got, want)
	}

	// Error paths; each changes nothing.
	before := states()
	wantCode(t, "StopInstances without InstanceIds", stop(), "MissingParameter")
	wantCode(t, "StartInstances without InstanceIds", start(), "MissingParameter")
	err = start(app, "ins-00000000")
	wantCode(t, "StartInstances of an unknown instance", err, "InvalidInstanceId.NotFound")
	if !strings.Contains(message(err), "ins-00000000") {
		t.Errorf("message %q does not name the instance", message(err))
	}
	wantCode(t, "StopInstances of another account's instance", func() error {
		r := cvm.NewStopInstancesRequest()
		r.InstanceIds = common.StringPtrs([]string{spare})
		_, err := e.cvmAs(e.other, gz).StopInstances(r)
		return err
	}(), "InvalidInstanceId.NotFound")
	wantCode(t, "StopInstances as readonly", func() error {
		r := cvm.NewStopInstancesRequest()
		r.InstanceIds = common.StringPtrs([]string{spare})
		_, err := e.cvmAs(e.reader, gz).StopInstances(r)
		return err
	}(), "UnauthorizedOperation")
	many := make([]string, 101)
	for i := range many {
		many[i] = "ins-" + strings.Repeat("0", 7) + string(rune('a'+i%26))
	}
	wantCode(t, "StopInstances of 101 instances", stop(many...), "InvalidParameterValue.LimitExceeded")
	if got := states(); !slices.Equal(got, before) {
		t.Errorf("after rejected requests: %q, want %q", got, before)
	}

	// A recycled instance can be neither stopped nor started: all or nothing.
	ti := cvm.NewTerminateInstancesRequest()
	ti.InstanceIds = common.StringPtrs([]string{app})
	if _, err := c.TerminateInstances(ti); err != nil {
		t.Fatal(err)
	}
	nextSecond() // the body was signed for TerminateInstances
	err = start(app)
	wantCode(t, "StartInstances of a recycled instance", err, "UnsupportedOperation")
	if !strings.Contains(message(err), app) || !strings.Contains(message(err), "RECYCLED") {
		t.Errorf("message %q does not name %s and its state", message(err), app)
	}
	wantCode(t, "StopInstances of a running and a recycled instance", stop(spare, app), "UnsupportedOperation")
	if got, want := states(), []string{"RECYCLED " + ref, "RUNNING " + db, "RUNNING"}; !slices.Equal(got, want) {
		t.Errorf("after rejected state changes: %q, want %q", got, want)
	}
	// Purged, it is terminated: still UnsupportedOperation.
	if err := e.call(e.admin, gz, "palisade", "PurgeInstances", map[string]any{"InstanceIds": []string{app}}, nil); err != nil {
		t.Fatal(err)
	}
	nextSecond()
	wantCode(t, "StopInstances of a terminated instance", stop(app), "UnsupportedOperation")
	if v := e.simulate(dbIns, "INGRESS", "TCP", "10.0.3.1", 3306); v.Verdict != "DROP" {
		t.Errorf("from a purged member: %+v, want DROP", v)
	}
}

// TestPurgeOnlyFromRecycleBin: PurgeInstances takes recycled instances only;
// a running or stopped one fails naming it and its state, and none of the
// listed instances is purged.
func TestPurgeOnlyFromRecycleBin(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.group("purge-g", nil, nil)
	ids := e.register(gz, instance{name: "bin", ip: "10.0.4.1"}, instance{name: "up", ip: "10.0.4.2"}, instance{name: "down", ip: "10.0.4.3"})
	bin, up, down := ids[0], ids[1], ids[2]
	for _, id := range ids {
		e.bind(id, g)
	}
	ti := cvm.NewTerminateInstancesRequest()
	ti.InstanceIds = common.StringPtrs([]string{bin})
	if _, err := e.cvm().TerminateInstances(ti); err != nil {
		t.Fatal(err)
	}
	si := cvm.NewStopInstancesRequest()
	si.InstanceIds = common.StringPtrs([]string{down})
	if _, err := e.cvm().StopInstances(si); err != nil {
		t.Fatal(err)
	}
	purge := func(as cred, ids ...string) error {
		return e.call(as, gz, "palisade", "PurgeInstances", map[string]any{"InstanceIds": ids}, nil)
	}
	states := func() []string {
		t.Helper()
		req := cvm.NewDescribeInstancesRequest()
		req.InstanceIds = common.StringPtrs(ids)
		res, err := e.cvm().DescribeInstances(req)
		if err != nil {
			t.Fatal(err)
		}
		by := map[string]string{}
		for _, in := range res.Response.InstanceSet {
			by[*in.InstanceId] = *in.InstanceState + "/" + itoa(len(in.SecurityGroupIds))
		}
		return []string{by[bin], by[up], by[down]}
	}
	for _, tt := range []struct {
		name  string
		ids   []string
		state string
		who   string
	}{
		{"running", []string{bin, up}, "RUNNING", up},
		{"stopped", []string{down, bin}, "STOPPED", down},
	} {
		err := purge(e.platform, tt.ids...)
		wantCode(t, "purge a "+tt.name+" instance", err, "UnsupportedOperation")
		if !strings.Contains(message(err), tt.who) || !strings.Contains(message(err), tt.state) {
			t.Errorf("purge a %s instance: message %q does not name %s and %s", tt.name, message(err), tt.who, tt.state)
		}
		if got, want := states(), []string{"RECYCLED/1", "RUNNING/1", "STOPPED/1"}; !slices.Equal(got, want) {
			t.Errorf("after purging a %s instance: %q, want %q", tt.name, got, want)
		}
	}
	if err := purge(e.admin, bin); err != nil {
		t.Fatalf("purge the recycled instance: %v", err)
	}
	if got, want := states(), []string{"TERMINATED/0", "RUNNING/1", "STOPPED/1"}; !slices.Equal(got, want) {
		t.Errorf("after purge: %q, want %q", got, want)
	}
	nextSecond()
	wantCode(t, "purge it again", purge(e.admin, bin), "UnsupportedOperation")
}
