package api

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
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
// as Tencent's documentation describes, lower-cased; the host is tried as
// sent and, as the Node.js SDK signs it, without its port. The signing key
// is derived from the service the credential scope names, whatever it is
// (the Node.js SDK names the endpoint's first DNS label).
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
	hosts := []string{r.Host}
	if h, ok := hostWithoutPort(r.Host); ok {
		hosts = append(hosts, h)
	}
	for _, host := range hosts {
		for _, lower := range []bool{false, true} {
			headers := canonicalHeaders(r, host, a.signedHeaders, lower)
			canonical := client.CanonicalRequest(r.Method, query, headers, signed, payloadHash)
			got := client.Signature(key, client.StringToSign(ts, scope, canonical))
			if subtle.ConstantTimeCompare([]byte(got), want) == 1 {
				return nil
			}
		}
	}
	return authError(codeSignatureFailure, "the request signature does not match; check the SecretKey and how the request is signed")
}

// canonicalHeaders builds the "name:value\n" lines for the signed headers,
// with host as the value of host.
func canonicalHeaders(r *http.Request, host string, names []string, lower bool) string {
	var b strings.Builder
	for _, name := range names {
		v := r.Header.Get(name)
		if name == "host" {
			v = host
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

// hostWithoutPort returns host as the Node.js SDK signs it: the URL's
// hostname, without the port (an IPv6 literal keeps its brackets), and
// whether that differs from host.
func hostWithoutPort(host string) (string, bool) {
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || end == len(host)-1 {
			return host, false
		}
		return host[:end+1], true
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host, ':') == i {
		return host[:i], true
	}
	return host, false
}

// DefaultReplayCacheEntries is the default bound on the signatures the
// replay cache remembers.
const DefaultReplayCacheEntries = 200_000

// signatureKey is a signature's 32 bytes.
type signatureKey [32]byte

// replayEntry is what the cache remembers of one accepted signature. It
// holds no pointer, so that the garbage collector need not scan the map.
type replayEntry struct {
	action uint16 // the action it was first accepted for, an index in names
	write  bool   // whether that action writes
}

// replayCache remembers the signatures accepted within the timestamp
// window, so that a captured request cannot be sent again as another action,
// nor a write twice. TC3-HMAC-SHA256 has no nonce: a client that sends the
// same read twice within one second signs it identically, so an identical
// read of the same action is answered again.
//
// A signature covers its X-TC-Timestamp, so a replay carries the same
// timestamp: the cache keeps one map per timestamp second and drops whole
// seconds, never single entries. A second leaves when it falls out of the
// ±maxClockSkew window, where requestTimestamp refuses its requests anyway.
// The cache holds at most max signatures: when full, the oldest second is
// dropped and floor rises to it, and a request whose timestamp is not after
// floor can no longer be checked and is refused, never let through.
type replayCache struct {
	max int

	mu      sync.Mutex
	ids     map[string]uint16 // action name → index in names
	names   []string
	seconds map[int64]map[signatureKey]replayEntry // by X-TC-Timestamp
	n       int                                    // signatures in seconds
	oldest  int64                                  // no second is older
	floor   int64                                  // timestamps up to floor are refused
}

func newReplayCache(max int) *replayCache {
	if max <= 0 {
		max = DefaultReplayCacheEntries
	}
	return &replayCache{max: max, ids: map[string]uint16{}, seconds: map[int64]map[signatureKey]replayEntry{}}
}

// check records the signature sig of a request stamped ts for action, or
// refuses it: for another action than the one it was first accepted for,
// for a write already accepted once, or when ts is too old for the cache to
// tell. now is the server's clock. Actions are the action table's, a
// bounded set.
func (c *replayCache) check(sig string, ts int64, action string, write bool, now time.Time) error {
	var key signatureKey
	if n, err := hex.Decode(key[:], []byte(sig)); err != nil || n != len(key) {
		return authError(codeInvalidAuthorization, "the Authorization Signature must be 64 hex digits")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now.Unix() - int64(maxClockSkew/time.Second))
	id, ok := c.ids[action]
	if !ok {
		id = uint16(len(c.names))
		c.ids[action] = id
		c.names = append(c.names, action)
	}
	for {
		if ts <= c.floor {
			return authError(codeSignatureExpire,
				"X-TC-Timestamp %d is older than the server can check for replays under its current load; sign the request again with the current time", ts)
		}
		if c.n < c.max {
			break
		}
		c.evictOldest()
	}
	second := c.seconds[ts]
	if e, ok := second[key]; ok {
		switch {
		case e.action != id:
			return authError(codeReplayedSignature, "replayed signature: it was accepted for %s and is refused for %s; sign every request anew", c.names[e.action], action)
		case e.write:
			return authError(codeReplayedSignature, "replayed signature: this %s request was accepted once already; sign every write anew", action)
		}
		return nil
	}
	if second == nil {
		second = map[signatureKey]replayEntry{}
		c.seconds[ts] = second
		if len(c.seconds) == 1 || ts < c.oldest {
			c.oldest = ts
		}
	}
	second[key] = replayEntry{action: id, write: write}
	c.n++
	return nil
}

// expire drops the seconds before cutoff.
func (c *replayCache) expire(cutoff int64) {
	if len(c.seconds) == 0 || c.oldest >= cutoff {
		return
	}
	for ts, m := range c.seconds {
		if ts < cutoff {
			c.n -= len(m)
			delete(c.seconds, ts)
		}
	}
	c.oldest = cutoff
}

// evictOldest drops the oldest second and raises floor to it.
func (c *replayCache) evictOldest() {
	for ts := c.oldest; ; ts++ {
		if m, ok := c.seconds[ts]; ok {
			c.n -= len(m)
			delete(c.seconds, ts)
			c.floor = max(c.floor, ts)
			c.oldest = ts + 1
			return
		}
	}
}

// len returns the number of signatures remembered.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// checkShared checks a signature the in-process cache accepted against the
// signatures every replica accepted (when a Signatures log is set), and
// records it there. A read whose signature covers X-TC-Action is not
// recorded: answering it again is allowed, and sending its signature with
// another action fails verification, so no replica needs to know of it.
// A failure to reach the log refuses the request.
func (h *handler) checkShared(ctx context.Context, a authorization, ts int64, action string, write bool) error {
	if h.shared == nil || (!write && slices.Contains(a.signedHeaders, "x-tc-action")) {
		return nil
	}
	expires := time.Unix(ts, 0).Add(maxClockSkew)
	first, fresh, err := h.shared.Remember(ctx, strings.ToLower(a.signature), action, write, expires)
	switch {
	case err != nil:
		return err
	case fresh:
		return nil
	case first.Action != action:
		return authError(codeReplayedSignature, "replayed signature: it was accepted for %s and is refused for %s; sign every request anew", first.Action, action)
	case first.Write:
		return authError(codeReplayedSignature, "replayed signature: this %s request was accepted once already; sign every write anew", action)
	}
	return nil
}
