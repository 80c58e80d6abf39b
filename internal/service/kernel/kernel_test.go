package kernel

import (
	"errors"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
)

func fieldKind(err error) policy.ErrorKind {
	var fe *policy.FieldError
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return 0
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name, v  string
		required bool
		want     policy.ErrorKind // 0: valid
	}{
		{"plain", "web", true, 0},
		{"empty optional", "", false, 0},
		{"empty required", "", true, policy.Missing},
		{"60 characters", strings.Repeat("é", 60), true, 0},
		{"61 characters", strings.Repeat("a", 61), true, policy.TooLong},
		{"leading space", " web", true, policy.Malformed},
		{"zero-width space", "we\u200bb", true, policy.Malformed},
		{"bidi override", "web\u202e", true, policy.Malformed},
		{"invalid UTF-8", "we\xffb", true, policy.Malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fieldKind(CheckName("Name", tt.v, tt.required)); got != tt.want {
				t.Errorf("CheckName(%q) kind = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

func TestBounds(t *testing.T) {
	tests := []struct {
		name          string
		p             Page
		offset, limit int
		want          policy.ErrorKind
	}{
		{"default", Page{}, 0, 20, 0},
		{"given", Page{Offset: 5, Limit: 100}, 5, 100, 0},
		{"negative offset", Page{Offset: -1}, 0, 0, policy.OutOfRange},
		{"limit over the cap", Page{Limit: 101}, 0, 0, policy.OutOfRange},
		{"negative limit", Page{Limit: -1}, 0, 0, policy.OutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offset, limit, err := Bounds(tt.p)
			if offset != tt.offset || limit != tt.limit || fieldKind(err) != tt.want {
				t.Errorf("Bounds(%+v) = %d, %d, %v; want %d, %d, kind %v", tt.p, offset, limit, err, tt.offset, tt.limit, tt.want)
			}
		})
	}
}

func TestTenant(t *testing.T) {
	b := &Base{Regions: DefaultRegions()}
	c := Caller{AccountID: "acc-1", SecretID: "AKID", Role: RoleAdmin, Region: "ap-guangzhou"}
	with := func(f func(*Caller)) Caller { x := c; f(&x); return x }
	tests := []struct {
		name  string
		c     Caller
		write bool
		want  Kind // 0: allowed
	}{
		{"admin writes", c, true, 0},
		{"read-only reads", with(func(x *Caller) { x.Role = RoleReadOnly }), false, 0},
		{"read-only writes", with(func(x *Caller) { x.Role = RoleReadOnly }), true, KindForbidden},
		{"platform", with(func(x *Caller) { x.Role = RolePlatform }), false, KindForbidden},
		{"no account", with(func(x *Caller) { x.AccountID = "" }), false, KindForbidden},
		{"unknown region", with(func(x *Caller) { x.Region = "mars-1" }), false, KindUnsupportedRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.Tenant(tt.c, tt.write)
			var e *Error
			var got Kind
			if errors.As(err, &e) {
				got = e.Kind
			}
			if got != tt.want || (err == nil) != (tt.want == 0) {
				t.Errorf("Tenant(%+v, %v) = %v, want kind %v", tt.c, tt.write, err, tt.want)
			}
		})
	}
}
