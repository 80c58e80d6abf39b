package api

import (
	"strings"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	sig := strings.Repeat("ab", 32)
	f.Add("TC3-HMAC-SHA256 Credential=AKIDx/2026-11-28/vpc/tc3_request, SignedHeaders=content-type;host, Signature=" + sig)
	f.Add("TC3-HMAC-SHA256 Credential=AKIDx/2026-11-28/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=" + sig)
	f.Add("TC3-HMAC-SHA256 Credential=/2026-11-28/vpc/tc3_request, SignedHeaders=host, Signature=" + sig)
	f.Add("HmacSHA256 Credential=a")
	f.Add("TC3-HMAC-SHA256 Credential=a/b/c/d,,")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if code := toWire(err, "vpc", "DescribeSecurityGroups").Code; code != codeInvalidAuthorization {
				t.Fatalf("parseAuthorization(%q) error code %s, want %s", h, code, codeInvalidAuthorization)
			}
			return
		}
		if a.secretID == "" || len(a.signature) != 64 || !validService(a.service) {
			t.Fatalf("parseAuthorization(%q) accepted %+v", h, a)
		}
		hasHost := false
		for _, name := range a.signedHeaders {
			hasHost = hasHost || name == "host"
		}
		if !hasHost {
			t.Fatalf("parseAuthorization(%q) accepted SignedHeaders without host: %v", h, a.signedHeaders)
		}
		// What was accepted reads back the same when written canonically.
		again := "TC3-HMAC-SHA256 Credential=" + a.secretID + "/" + a.date + "/" + a.service + "/tc3_request, SignedHeaders=" +
			strings.Join(a.signedHeaders, ";") + ", Signature=" + a.signature
		b, err := parseAuthorization(again)
		if err != nil || b.secretID != a.secretID || b.date != a.date || b.service != a.service || b.signature != a.signature {
			t.Fatalf("canonical form of %q = %q: %+v, %v", h, again, b, err)
		}
	})
}
