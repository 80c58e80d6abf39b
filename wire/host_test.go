package wire

import "testing"

// TestSecurityGroupPropagationString: the sentence the CLI prints.
func TestSecurityGroupPropagationString(t *testing.T) {
	for _, tt := range []struct {
		p    SecurityGroupPropagation
		want string
	}{
		{SecurityGroupPropagation{AffectedHosts: 2, AppliedHosts: 2}, "applied on 2 of 2 hosts"},
		{SecurityGroupPropagation{AffectedHosts: 3, AppliedHosts: 1, Laggards: []HostLag{{HostId: "host-a"}, {HostId: "host-b"}}}, "applied on 1 of 3 hosts (behind: host-a, host-b)"},
	} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
