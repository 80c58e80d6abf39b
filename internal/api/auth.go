package api

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/client"
)

// maxClockSkew is how far X-TC-Timestamp may be from the server's clock.
const maxClockSkew = 300 * time.Second

// authorization is a parsed TC3-HMAC-SHA256 Authorization header.
type authorization struct {
	secretID      string
	date          string // credential scope date, YYYY-MM-DD
	service       string // credential scope service, e.g. "vpc"
	signedHeaders []string
	signature     string
}

// parseAuthorization reads
// "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=HEX".
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != client.Algorithm {
		return a, authError(codeInvalidAuthorization, "the Authorization header must use TC3-HMAC-SHA256")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, authError(codeInvalidAuthorization, "malformed Authorization header element %q", part)
		}
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 4 || cred[0] == "" || cred[3] != "tc3_request" {
		return a, authError(codeInvalidAuthorization, "the Authorization Credential must be SecretId/Date/Service/tc3_request")
	}
	if _, err := time.Parse(time.DateOnly, cred[1]); err != nil {
		return a, authError(codeInvalidAuthorization, "the Authorization Credential date %q is not YYYY-MM-DD", cred[1])
	}
	if !validService(cred[2]) {
		return a, authError(codeInvalidAuthorization, "the Authorization Credential service %q is not a service name", cred[2])
	}
	a.secretID, a.date, a.service = cred[0], cred[1], cred[2]
	if fields["SignedHeaders"] == "" {
		return a, authError(codeInvalidAuthorization, "the Authorization header has no SignedHeaders")
	}
	a.signedHeaders = strings.Split(fields["SignedHeaders"], ";")
	hasHost := false
	for _, name := range a.signedHeaders {
		if name == "" || name != strings.ToLower(name) {
			return a, authError(codeInvalidAuthorization, "SignedHeaders %q must be lower-case names separated by ;", fields["SignedHeaders"])
		}
		hasHost = hasHost || name == "host"
	}
	if !hasHost {
		return a, authError(codeInvalidAuthorization, "SignedHeaders must include host")
	}
	a.signature = fields["Signature"]
	if len(a.signature) != 64 {
		return a, authError(codeInvalidAuthorization, "the Authorization Signature must be 64 hex digits")
	}
	return a, nil
}

// validService reports whether s looks like a service name (vpc, cvm, …).
func validService(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// requestTimestamp reads X-TC-Timestamp and checks it against now.
func requestTimestamp(r *http.Request, now time.Time) (int64, error) {
	raw := r.Header.Get(client.HeaderTimestamp)
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, authError(codeInvalidAuthorization, "X-TC-Timestamp %q is not a Unix time in seconds", raw)
	}
	skew := now.Sub(time.Unix(ts, 0))
	if skew > maxClockSkew || skew < -maxClockSkew {
		return 0, authError(codeSignatureExpire, "X-TC-Timestamp %d is %s from the server's time; the limit is %s",
			ts, skew.Round(time.Second), maxClockSkew)
	}
	return ts, nil
}

// verifySignature recomputes the TC3-HMAC-SHA256 signature of r from its
// SignedHeaders, the raw query (GET) or raw body (POST), and compares it
// with the one sent, in constant time. Header values are tried as sent and,
// as Tencent's documentation describes, lower-cased.
func verifySignature(r *http.Request, body []byte, a authorization, ts int64, secretKey string) error {
	if client.ScopeDate(ts) != a.date {
		return authError(codeSignatureFailure, "the credential scope date %s is not the UTC date of X-TC-Timestamp %d", a.date, ts)
	}
	query, payload := "", body
	if r.Method == http.MethodGet {
		query, payload = r.URL.RawQuery, nil
	}
	payloadHash := client.HashHex(payload)
	if r.Header.Get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD" {
		payloadHash = client.HashHex([]byte("UNSIGNED-PAYLOAD"))
	}
	signed := strings.Join(a.signedHeaders, ";")
	scope := client.CredentialScope(a.date, a.service)
	key := client.SigningKey(secretKey, a.date, a.service)
	want := []byte(a.signature)
	for _, lower := range []bool{false, true} {
		headers := canonicalHeaders(r, a.signedHeaders, lower)
		canonical := client.CanonicalRequest(r.Method, query, headers, signed, payloadHash)
		got := client.Signature(key, client.StringToSign(ts, scope, canonical))
		if subtle.ConstantTimeCompare([]byte(got), want) == 1 {
			return nil
		}
	}
	return authError(codeSignatureFailure, "the request signature does not match; check the SecretKey and how the request is signed")
}

// canonicalHeaders builds the "name:value\n" lines for the signed headers.
func canonicalHeaders(r *http.Request, names []string, lower bool) string {
	var b strings.Builder
	for _, name := range names {
		v := r.Header.Get(name)
		if name == "host" {
			v = r.Host
		}
		v = strings.TrimSpace(v)
		if lower {
			v = strings.ToLower(v)
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String()
}
