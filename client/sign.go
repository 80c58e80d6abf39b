package client

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signature algorithm Palisade speaks.
const Algorithm = "TC3-HMAC-SHA256"

// Headers a signed request carries.
const (
	HeaderAction    = "X-TC-Action"
	HeaderVersion   = "X-TC-Version"
	HeaderTimestamp = "X-TC-Timestamp"
	HeaderRegion    = "X-TC-Region"
	HeaderLanguage  = "X-TC-Language"
	// HeaderNonce is signed by SignWithAction so that each signature is new.
	HeaderNonce = "X-Palisade-Nonce"
)

// signedHeaders is what the official SDKs sign and what Sign signs.
const signedHeaders = "content-type;host"

// HashHex returns the lower-case hex SHA-256 of b.
func HashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// ScopeDate returns the credential-scope date of a Unix timestamp: its UTC
// calendar day as YYYY-MM-DD.
func ScopeDate(unix int64) string {
	return time.Unix(unix, 0).UTC().Format(time.DateOnly)
}

// CredentialScope returns "DATE/SERVICE/tc3_request".
func CredentialScope(date, service string) string {
	return date + "/" + service + "/tc3_request"
}

// CanonicalRequest assembles the canonical request of TC3-HMAC-SHA256.
// canonicalHeaders holds one "name:value\n" line per signed header, in the
// order of signedHeaders; payloadHash is HashHex of the body for POST and of
// the empty string for GET.
func CanonicalRequest(method, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash string) string {
	return method + "\n/\n" + canonicalQuery + "\n" + canonicalHeaders + "\n" + signedHeaders + "\n" + payloadHash
}

// StringToSign returns the string that is signed for a canonical request
// sent at the given Unix timestamp under scope.
func StringToSign(timestamp int64, scope, canonicalRequest string) string {
	return Algorithm + "\n" + strconv.FormatInt(timestamp, 10) + "\n" + scope + "\n" + HashHex([]byte(canonicalRequest))
}

// SigningKey derives the key for one day and service from a SecretKey.
func SigningKey(secretKey, date, service string) []byte {
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "tc3_request")
}

// Signature returns the lower-case hex signature of stringToSign.
func Signature(signingKey []byte, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(signingKey, stringToSign))
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// Sign adds the TC3-HMAC-SHA256 headers to r, exactly as the official SDKs
// do: Content-Type and Host are signed, the payload is body for POST and the
// raw query (already set in r.URL) for GET. It sets X-TC-Timestamp and
// Authorization; the caller sets X-TC-Action, X-TC-Version and X-TC-Region.
func Sign(r *http.Request, body []byte, secretID, secretKey, service string, now time.Time) {
	sign(r, body, secretID, secretKey, service, now, false)
}

// SignWithAction is Sign that also signs X-TC-Action, which the caller must
// have set, and a random X-Palisade-Nonce it sets: the signature then holds
// for that action and that request only, so neither the same body sent to
// two actions nor the same write sent twice within one second is taken by
// the server's replay cache for a replay (a captured request re-sent still
// is). The server accepts both forms; Palisade's client signs this way.
func SignWithAction(r *http.Request, body []byte, secretID, secretKey, service string, now time.Time) {
	sign(r, body, secretID, secretKey, service, now, true)
}

func sign(r *http.Request, body []byte, secretID, secretKey, service string, now time.Time, withAction bool) {
	ts := now.Unix()
	contentType := "application/json"
	query := ""
	payload := body
	if r.Method == http.MethodGet {
		contentType = "application/x-www-form-urlencoded"
		query = r.URL.RawQuery
		payload = nil
	}
	r.Header.Set("Content-Type", contentType)
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	headers := "content-type:" + contentType + "\nhost:" + host + "\n"
	signed := signedHeaders
	if withAction {
		var nonce [16]byte
		rand.Read(nonce[:])
		r.Header.Set(HeaderNonce, hex.EncodeToString(nonce[:]))
		headers += "x-palisade-nonce:" + r.Header.Get(HeaderNonce) + "\n"
		headers += "x-tc-action:" + strings.ToLower(r.Header.Get(HeaderAction)) + "\n"
		signed += ";x-palisade-nonce;x-tc-action"
	}
	canonical := CanonicalRequest(r.Method, query, headers, signed, HashHex(payload))
	date := ScopeDate(ts)
	scope := CredentialScope(date, service)
	sig := Signature(SigningKey(secretKey, date, service), StringToSign(ts, scope, canonical))
	r.Header.Set("Authorization", Authorization(secretID, scope, signed, sig))
}

// Authorization formats the Authorization header value.
func Authorization(secretID, scope, signedHeaders, signature string) string {
	var b strings.Builder
	b.WriteString(Algorithm)
	b.WriteString(" Credential=")
	b.WriteString(secretID)
	b.WriteByte('/')
	b.WriteString(scope)
	b.WriteString(", SignedHeaders=")
	b.WriteString(signedHeaders)
	b.WriteString(", Signature=")
	b.WriteString(signature)
	return b.String()
}
