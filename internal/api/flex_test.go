package api

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/wire"
)

func TestFlexibleScalarErrorsNameFieldAndValue(t *testing.T) {
	type req struct {
		PolicyIndex *wire.Int  `json:"PolicyIndex"`
		Sort        *wire.Bool `json:"Sort"`
	}
	tests := []struct {
		name, body string
		wantIndex  int64
		wantErr    string // the value a malformed field reports, "" for none
		wantSort   bool
	}{
		{name: "SDK types", body: `{"PolicyIndex":0,"Sort":true}`, wantSort: true},
		{name: "documentation types", body: `{"PolicyIndex":"3","Sort":"TRUE"}`, wantIndex: 3, wantSort: true},
		{name: "malformed index kept for the message", body: `{"PolicyIndex":"first"}`, wantErr: "first"},
		{name: "malformed boolean kept for the message", body: `{"Sort":"yes"}`, wantErr: "yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r req
			if err := json.Unmarshal([]byte(tt.body), &r); err != nil {
				t.Fatal(err)
			}
			var errs []error
			if r.PolicyIndex != nil {
				n, err := integer("PolicyIndex", r.PolicyIndex)
				if err == nil && n != tt.wantIndex {
					t.Errorf("PolicyIndex = %d, want %d", n, tt.wantIndex)
				}
				errs = append(errs, err)
			}
			if r.Sort != nil {
				b, err := boolean("Sort", r.Sort)
				if err == nil && b != tt.wantSort {
					t.Errorf("Sort = %v, want %v", b, tt.wantSort)
				}
				errs = append(errs, err)
			}
			err := errors.Join(errs...)
			var fe *policy.FieldError
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error = %v, want none", err)
			case tt.wantErr != "" && (!errors.As(err, &fe) || fe.Value != tt.wantErr || fe.Kind != policy.Malformed):
				t.Errorf("error = %v, want a malformed-field error with value %q", err, tt.wantErr)
			}
		})
	}
}

func TestFlexRejectsObjectsWithFieldPath(t *testing.T) {
	var r struct {
		Set struct {
			Ingress []wire.SecurityGroupPolicyInput `json:"Ingress"`
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
