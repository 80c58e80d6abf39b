package wire_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/palisade-sg/palisade/wire"
)

func TestScalarsDecodeLeniently(t *testing.T) {
	type req struct {
		Version     *wire.String    `json:"Version"`
		PolicyIndex *wire.Int       `json:"PolicyIndex"`
		Limit       *wire.IntString `json:"Limit"`
		Sort        *wire.Bool      `json:"Sort"`
	}
	tests := []struct {
		name                      string
		body                      string
		version, index, limit     *string // text; nil means absent
		sort                      *string
		wantIndex, wantLimit      int64
		wantSortValue, wantBadErr bool
	}{
		{name: "SDK types", body: `{"Version":"3","PolicyIndex":0,"Limit":"20","Sort":true}`,
			version: ptr("3"), index: ptr("0"), limit: ptr("20"), sort: ptr("true"), wantLimit: 20, wantSortValue: true},
		{name: "documentation types", body: `{"Version":20,"PolicyIndex":"3","Limit":1,"Sort":"TRUE"}`,
			version: ptr("20"), index: ptr("3"), limit: ptr("1"), sort: ptr("TRUE"), wantIndex: 3, wantLimit: 1, wantSortValue: true},
		{name: "numbers as booleans", body: `{"Sort":0}`, sort: ptr("0")},
		{name: "absent", body: `{}`},
		{name: "null is absent", body: `{"Version":null,"PolicyIndex":null,"Limit":null,"Sort":null}`},
		{name: "empty string is present", body: `{"Version":"","Limit":""}`, version: ptr(""), limit: ptr("")},
		{name: "spaces trimmed from integers", body: `{"PolicyIndex":" 7 "}`, index: ptr("7"), wantIndex: 7},
		{name: "malformed kept as given", body: `{"PolicyIndex":"first","Sort":"yes"}`, index: ptr("first"), sort: ptr("yes"), wantBadErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r req
			if err := json.Unmarshal([]byte(tt.body), &r); err != nil {
				t.Fatal(err)
			}
			check := func(field string, present bool, text string, want *string) {
				t.Helper()
				switch {
				case want == nil && present:
					t.Errorf("%s = %q, want absent", field, text)
				case want != nil && !present:
					t.Errorf("%s absent, want %q", field, *want)
				case want != nil && text != *want:
					t.Errorf("%s = %q, want %q", field, text, *want)
				}
			}
			check("Version", r.Version != nil, deref(r.Version), tt.version)
			if check("PolicyIndex", r.PolicyIndex != nil, text(r.PolicyIndex), tt.index); r.PolicyIndex != nil {
				n, err := r.PolicyIndex.Int64()
				if (err != nil) != tt.wantBadErr || (err == nil && n != tt.wantIndex) {
					t.Errorf("PolicyIndex.Int64() = %d, %v; want %d", n, err, tt.wantIndex)
				}
			}
			if check("Limit", r.Limit != nil, textIS(r.Limit), tt.limit); r.Limit != nil && r.Limit.Text() != "" {
				if n, err := r.Limit.Int64(); err != nil || n != tt.wantLimit {
					t.Errorf("Limit.Int64() = %d, %v; want %d", n, err, tt.wantLimit)
				}
			}
			if check("Sort", r.Sort != nil, textB(r.Sort), tt.sort); r.Sort != nil {
				b, err := r.Sort.Bool()
				if (err != nil) != tt.wantBadErr || (err == nil && b != tt.wantSortValue) {
					t.Errorf("Sort.Bool() = %v, %v; want %v", b, err, tt.wantSortValue)
				}
			}
		})
	}
}

func TestScalarsRejectObjectsAndArraysWithTheirPath(t *testing.T) {
	tests := []struct {
		name, body, field string
	}{
		{"object as string", `{"SecurityGroupPolicySet":{"Ingress":[{"Port":{"a":1}}]}}`, "SecurityGroupPolicySet.Ingress.Port"},
		{"array as integer", `{"SecurityGroupPolicySet":{"Egress":[{"PolicyIndex":[1]}]}}`, "SecurityGroupPolicySet.Egress.PolicyIndex"},
		{"object as boolean", `{"SortPolicys":{}}`, "SortPolicys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r wire.ModifySecurityGroupPoliciesRequest
			err := json.Unmarshal([]byte(tt.body), &r)
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) || te.Field != tt.field {
				t.Errorf("Unmarshal(%s) = %v, want an UnmarshalTypeError at %s", tt.body, err, tt.field)
			}
		})
	}
}

func TestScalarsEncodeAsTheSDKSends(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		want    string
		wantErr bool
	}{
		{name: "string", v: wire.NewString("x"), want: `"x"`},
		{name: "int is a number", v: wire.NewInt(-3), want: `-3`},
		{name: "int string is a string", v: wire.NewIntString(20), want: `"20"`},
		{name: "empty int string", v: decode[wire.IntString](t, `""`), want: `""`},
		{name: "int decoded from a string", v: decode[wire.Int](t, `"5"`), want: `5`},
		{name: "int string decoded from a number", v: decode[wire.IntString](t, `5`), want: `"5"`},
		{name: "bool", v: wire.NewBool(true), want: `true`},
		{name: "bool decoded from text", v: decode[wire.Bool](t, `"FALSE"`), want: `false`},
		{name: "malformed int", v: decode[wire.Int](t, `"first"`), wantErr: true},
		{name: "empty int", v: decode[wire.Int](t, `""`), wantErr: true},
		{name: "malformed int string", v: decode[wire.IntString](t, `"x1"`), wantErr: true},
		{name: "malformed bool", v: decode[wire.Bool](t, `"yes"`), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if tt.wantErr {
				if err == nil {
					t.Errorf("Marshal = %s, want an error", b)
				}
				return
			}
			if err != nil || string(b) != tt.want {
				t.Errorf("Marshal = %s, %v; want %s", b, err, tt.want)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	if got := wire.Strings(); got != nil {
		t.Errorf("Strings() = %#v, want nil", got)
	}
	got := wire.Strings("a", "b")
	if len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("Strings(a, b) = %#v", got)
	}
}

func decode[T any](t *testing.T, s string) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("Unmarshal(%s): %v", s, err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

func deref(s *wire.String) string {
	if s == nil {
		return ""
	}
	return string(*s)
}

func text(n *wire.Int) string {
	if n == nil {
		return ""
	}
	return n.Text()
}

func textIS(n *wire.IntString) string {
	if n == nil {
		return ""
	}
	return n.Text()
}

func textB(v *wire.Bool) string {
	if v == nil {
		return ""
	}
	return v.Text()
}
