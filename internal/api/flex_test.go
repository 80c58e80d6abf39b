package api

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
)

func TestFlexibleScalars(t *testing.T) {
	type req struct {
		Version     *flexString `json:"Version"`
		PolicyIndex *flexInt    `json:"PolicyIndex"`
		Sort        *flexBool   `json:"Sort"`
	}
	tests := []struct {
		name, body  string
		wantVersion *string
		wantIndex   int64
		wantIdxErr  bool
		wantSort    bool
	}{
		{name: "SDK types", body: `{"Version":"3","PolicyIndex":0,"Sort":true}`, wantVersion: ptr("3")},
		{name: "documentation types", body: `{"Version":20,"PolicyIndex":"3","Sort":"TRUE"}`, wantVersion: ptr("20"), wantIndex: 3, wantSort: true},
		{name: "absent", body: `{}`},
		{name: "empty string is present", body: `{"Version":""}`, wantVersion: ptr("")},
		{name: "null is absent", body: `{"Version":null}`},
		{name: "malformed index kept for the message", body: `{"PolicyIndex":"first"}`, wantIdxErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r req
			if err := json.Unmarshal([]byte(tt.body), &r); err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantVersion == nil && r.Version != nil:
				t.Errorf("Version = %q, want absent", *r.Version)
			case tt.wantVersion != nil && (r.Version == nil || string(*r.Version) != *tt.wantVersion):
				t.Errorf("Version = %v, want %q", r.Version, *tt.wantVersion)
			}
			if r.PolicyIndex != nil {
				n, err := r.PolicyIndex.int64("PolicyIndex")
				var fe *policy.FieldError
				if tt.wantIdxErr != (err != nil) || (err != nil && (!errors.As(err, &fe) || fe.Value != "first")) {
					t.Errorf("PolicyIndex error = %v", err)
				}
				if err == nil && n != tt.wantIndex {
					t.Errorf("PolicyIndex = %d, want %d", n, tt.wantIndex)
				}
			}
			if r.Sort != nil {
				if b, _ := r.Sort.bool("Sort"); b != (tt.wantSort || tt.name == "SDK types") {
					t.Errorf("Sort = %v", b)
				}
			}
		})
	}
}

func TestFlexRejectsObjectsWithFieldPath(t *testing.T) {
	var r struct {
		Set struct {
			Ingress []policyIn `json:"Ingress"`
		} `json:"SecurityGroupPolicySet"`
	}
	err := json.Unmarshal([]byte(`{"SecurityGroupPolicySet":{"Ingress":[{"Port":{"a":1}}]}}`), &r)
	we := toWire(err, "vpc", "CreateSecurityGroupPolicies")
	if we.Code != codeValueMalformed || we.Message != "SecurityGroupPolicySet.Ingress.Port: a JSON object cannot be a string" {
		t.Errorf("toWire = %+v", we)
	}
}

func TestQueryToJSON(t *testing.T) {
	q, _ := url.ParseQuery("SecurityGroupId=sg-1a2b3c4d&SecurityGroupPolicySet.Ingress.0.Port=22&SecurityGroupPolicySet.Ingress.1.Port=80&" +
		"SecurityGroupPolicySet.Ingress.10.Port=443&SecurityGroupPolicySet.Ingress.0.AddressTemplate.AddressId=ipm-1a2b3c4d&" +
		"SecurityGroupPolicySet.Version=3&SortPolicys=true&Ids.0=a")
	got, err := queryToJSON(q)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Ids":["a"],"SecurityGroupId":"sg-1a2b3c4d","SecurityGroupPolicySet":{"Ingress":[{"AddressTemplate":{"AddressId":"ipm-1a2b3c4d"},"Port":"22"},{"Port":"80"},{"Port":"443"}],"Version":"3"},"SortPolicys":"true"}`
	if string(got) != want {
		t.Errorf("queryToJSON =\n%s\nwant\n%s", got, want)
	}
	bad, _ := url.ParseQuery("A=1&A.B=2")
	if _, err := queryToJSON(bad); err == nil {
		t.Error("a key that is both a value and a structure was accepted")
	}
}

func ptr[T any](v T) *T { return &v }
