package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/wire"
)

func runAdmin(t *testing.T, args ...string) (map[string]any, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), args, &out, &errOut)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if strings.Contains(strings.Join(args, " "), "-o json") || contains(args, "json") {
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			t.Fatalf("%v: output %q is not JSON: %v", args, out.String(), err)
		}
	}
	return m, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestAdminCommands(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	dsn := "sqlite:" + path
	acct, err := runAdmin(t, "admin", "account", "create", "acme", "--db", dsn, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	accountID, _ := acct["AccountId"].(string)
	secretID, _ := acct["SecretId"].(string)
	if !strings.HasPrefix(accountID, "acc-") || !strings.HasPrefix(secretID, "AKID") || len(acct["SecretKey"].(string)) < 32 {
		t.Fatalf("account create = %v", acct)
	}
	tests := []struct {
		name    string
		args    []string
		check   func(map[string]any) bool
		wantErr bool
	}{
		{"readonly credential", []string{"admin", "credential", "create", "--account", accountID, "--role", "readonly"},
			func(m map[string]any) bool { return m["Role"] == "readonly" && m["AccountId"] == accountID }, false},
		{"credential for a missing account", []string{"admin", "credential", "create", "--account", "acc-zzzzzzzz"}, nil, true},
		{"platform key", []string{"admin", "platform-key", "create"},
			func(m map[string]any) bool {
				return strings.HasPrefix(m["SecretId"].(string), "AKID") && m["SecretKey"] != ""
			}, false},
		{"host", []string{"admin", "host", "create", "hv-1"},
			func(m map[string]any) bool {
				return strings.HasPrefix(m["HostId"].(string), "host-") && m["SecretId"] != ""
			}, false},
		{"quota", []string{"admin", "quota", "set", "--account", accountID, "--groups-per-region", "10000", "--policies-per-direction", "500"},
			func(m map[string]any) bool {
				return m["GroupsPerRegion"] == float64(10000) && m["PoliciesPerDirection"] == float64(500) && m["GroupsPerInstance"] == float64(5)
			}, false},
		{"platform address", []string{"admin", "platform-address", "add", "169.254.169.254"},
			func(m map[string]any) bool {
				l, _ := m["PlatformAddresses"].([]any)
				return len(l) == 1 && l[0] == "169.254.169.254/32"
			}, false},
		{"bad platform address", []string{"admin", "platform-address", "add", "nope"}, nil, true},
		{"second platform address", []string{"admin", "platform-address", "add", "10.0.0.53/32"},
			func(m map[string]any) bool {
				l, _ := m["PlatformAddresses"].([]any)
				return len(l) == 2
			}, false},
		{"remove a platform address", []string{"admin", "platform-address", "remove", "169.254.169.254"},
			func(m map[string]any) bool {
				l, _ := m["PlatformAddresses"].([]any)
				return len(l) == 1 && l[0] == "10.0.0.53/32"
			}, false},
		{"remove a missing platform address", []string{"admin", "platform-address", "remove", "192.0.2.1"}, nil, true},
		{"list platform addresses", []string{"admin", "platform-address", "list"},
			func(m map[string]any) bool {
				l, _ := m["PlatformAddresses"].([]any)
				return len(l) == 1 && l[0] == "10.0.0.53/32"
			}, false},
		{"bad dsn", []string{"admin", "host", "create", "x", "--db", "mysql:x"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{}, tc.args...)
			if !contains(args, "--db") {
				args = append(args, "--db", dsn)
			}
			args = append(args, "-o", "json")
			m, err := runAdmin(t, args...)
			if tc.wantErr {
				if err == nil {
					t.Errorf("%v succeeded, want an error", tc.args)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(m) {
				t.Errorf("%v = %v", tc.args, m)
			}
		})
	}
	// What the commands wrote is what the server reads.
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := service.New(st, service.Options{})
	c, err := svc.LookupCredential(context.Background(), secretID)
	if err != nil || c.AccountID != accountID || c.Role != service.RoleAdmin {
		t.Errorf("credential = %+v, %v", c, err)
	}
	q, err := svc.DescribeSecurityGroupLimits(context.Background(), c.Caller("ap-guangzhou", "r"))
	if err != nil || q.GroupsPerRegion != 10000 {
		t.Errorf("quotas = %+v, %v", q, err)
	}
	var text bytes.Buffer
	if err := Run(context.Background(), []string{"admin", "host", "create", "hv-2", "--db", dsn}, &text, &text); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text.String(), "HostId: host-") {
		t.Errorf("text output = %q", text.String())
	}
}

func TestPrintResultText(t *testing.T) {
	type placement struct {
		Zone      string
		ProjectId int64
	}
	type item struct {
		Name  string
		Count int
	}
	tests := []struct {
		name    string
		v       any
		want    string
		wantErr bool
	}{
		{name: "field order, not alphabetical", v: struct {
			Zeta  string
			Alpha int
		}{"z", 1}, want: "Zeta: z\nAlpha: 1\n"},
		{name: "JSON names, skipped and unexported fields", v: struct {
			A      string `json:"Renamed,omitempty"`
			B      string `json:"-"`
			hidden string
			C      bool
		}{A: "a", B: "b", hidden: "h", C: true}, want: "Renamed: a\nC: true\n"},
		{name: "nested struct flattened, lists joined", v: &struct {
			Placement placement
			Ids       []string
		}{placement{"ap-guangzhou-4", 3}, []string{"a", "b"}}, want: "Placement.Zone: ap-guangzhou-4\nPlacement.ProjectId: 3\nIds: a, b\n"},
		{name: "text forms and nil pointers", v: struct {
			Prefix netip.Prefix
			Index  *wire.Int
			Limit  *wire.IntString
			Name   *wire.String
		}{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Index: wire.NewInt(4)}, want: "Prefix: 10.0.0.0/8\nIndex: 4\nLimit: \nName: \n"},
		{name: "list of structs in a field", v: struct{ TagSet []wire.Tag }{[]wire.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: "a"}}},
			want: "TagSet: Key=env Value=prod, Key=team Value=a\n"},
		{name: "a wire response", v: wire.SimulateTrafficResponse{Verdict: "DROP", Layer: "PLATFORM", Trace: []string{"x"}},
			want: "Verdict: DROP\nLayer: PLATFORM\nSecurityGroupId: \nPolicyIndex: \nTrace: x\nWarnings: \nRequestId: \n"},
		{name: "list of structs as a table", v: []item{{"web", 12}, {"database", 3}},
			want: "Name      Count\nweb       12\ndatabase  3\n"},
		{name: "map refused", v: map[string]int{"a": 1}, wantErr: true},
		{name: "map field refused", v: struct{ M map[string]int }{map[string]int{"a": 1}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := printResult(&b, "text", tt.v)
			if tt.wantErr {
				if err == nil {
					t.Errorf("printResult = %q, want an error", b.String())
				}
				return
			}
			if err != nil || b.String() != tt.want {
				t.Errorf("printResult =\n%q, %v\nwant\n%q", b.String(), err, tt.want)
			}
		})
	}
}

func TestPrintResultJSON(t *testing.T) {
	var b bytes.Buffer
	if err := printResult(&b, "json", hostResult{"host-1", "AKID1", "key"}); err != nil {
		t.Fatal(err)
	}
	if want := `{"HostId":"host-1","SecretId":"AKID1","SecretKey":"key"}` + "\n"; b.String() != want {
		t.Errorf("printResult json = %q, want %q", b.String(), want)
	}
}
