package client

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The worked example of the compatibility notes: the real SDK's POST of a
// CreateSecurityGroupPolicies body to 127.0.0.1:36415.
const exampleBody = `{"SecurityGroupId":"sg-12345678","SecurityGroupPolicySet":{"Version":"3","Ingress":[{"PolicyIndex":0,"Protocol":"TCP","Port":"22,80","CidrBlock":"0.0.0.0/0","Action":"ACCEPT","PolicyDescription":""}]}}`

const exampleCanonical = "POST\n/\n\ncontent-type:application/json\nhost:127.0.0.1:36415\n\ncontent-type;host\n5ea1d2ba632a59e963c13a581a180eb66a9391b376ef2f742420964da5f3cc7e"

func TestCanonicalRequestWorkedExample(t *testing.T) {
	if got := HashHex([]byte(exampleBody)); got != "5ea1d2ba632a59e963c13a581a180eb66a9391b376ef2f742420964da5f3cc7e" {
		t.Fatalf("HashHex(body) = %s", got)
	}
	got := CanonicalRequest("POST", "", "content-type:application/json\nhost:127.0.0.1:36415\n", "content-type;host", HashHex([]byte(exampleBody)))
	if got != exampleCanonical {
		t.Errorf("CanonicalRequest =\n%q\nwant\n%q", got, exampleCanonical)
	}
}

func TestSign(t *testing.T) {
	now := time.Date(2026, 3, 1, 23, 59, 30, 0, time.FixedZone("UTC+8", 8*3600)) // 15:59:30 UTC
	tests := []struct {
		name, method, url, wantQuery string
		body                         []byte
	}{
		{name: "POST signs the body", method: "POST", url: "http://127.0.0.1:36415/", body: []byte(exampleBody)},
		{name: "GET signs the query", method: "GET", url: "http://127.0.0.1:36415/?Limit=20&Offset=0", wantQuery: "Limit=20&Offset=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(tt.method, tt.url, nil)
			Sign(r, tt.body, "AKIDtest", "secret", "vpc", now)
			auth := r.Header.Get("Authorization")
			prefix := "TC3-HMAC-SHA256 Credential=AKIDtest/2026-03-01/vpc/tc3_request, SignedHeaders=content-type;host, Signature="
			if !strings.HasPrefix(auth, prefix) {
				t.Fatalf("Authorization = %q, want prefix %q", auth, prefix)
			}
			if ts := r.Header.Get(HeaderTimestamp); ts != "1772380770" {
				t.Errorf("X-TC-Timestamp = %s, want 1772380770", ts)
			}
			ct := "application/json"
			payload := tt.body
			if tt.method == "GET" {
				ct, payload = "application/x-www-form-urlencoded", nil
			}
			canonical := CanonicalRequest(tt.method, tt.wantQuery, "content-type:"+ct+"\nhost:127.0.0.1:36415\n", "content-type;host", HashHex(payload))
			want := Signature(SigningKey("secret", "2026-03-01", "vpc"), StringToSign(1772380770, "2026-03-01/vpc/tc3_request", canonical))
			if got := strings.TrimPrefix(auth, prefix); got != want {
				t.Errorf("signature = %s, want %s", got, want)
			}
		})
	}
}

func TestScopeDateIsUTC(t *testing.T) {
	// 2026-03-02 00:30 in UTC+8 is still 2026-03-01 in UTC.
	ts := time.Date(2026, 3, 2, 0, 30, 0, 0, time.FixedZone("UTC+8", 8*3600)).Unix()
	if got := ScopeDate(ts); got != "2026-03-01" {
		t.Errorf("ScopeDate = %s, want 2026-03-01", got)
	}
}
