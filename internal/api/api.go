// Package api serves Palisade's Tencent Cloud API 3.0 compatible endpoint:
// TC3-HMAC-SHA256 authentication, the {"Response": …} envelope, Tencent's
// error codes and the dispatch of every action to the service. The
// official Tencent Cloud SDKs drive it unchanged.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// DefaultMaxBodyBytes is the default limit on a request body.
const DefaultMaxBodyBytes = 1 << 20

// Options configure the handler.
type Options struct {
	Service      Service
	Logger       *slog.Logger     // default: discard
	Clock        func() time.Time // default: time.Now; checks X-TC-Timestamp
	MaxBodyBytes int64            // default DefaultMaxBodyBytes
	// NewRequestID returns a request's RequestId (default: a random UUID).
	NewRequestID func() string
	// ReplayCacheEntries bounds the signatures remembered to refuse
	// replayed requests (default DefaultReplayCacheEntries).
	ReplayCacheEntries int
	// TrustedProxies are the proxies whose X-Forwarded-For is believed: a
	// request from one of them comes from the last address of that header
	// not itself a trusted proxy. Without them a request comes from its
	// connection's address (RemoteAddr), which lockout protection checks.
	TrustedProxies []netip.Prefix
	// Signatures, when set, remembers accepted signatures where every
	// replica sees them (the shared store): a signature one replica
	// accepted is refused as a replay by every other. The in-process
	// cache still answers first. Nil: this process's cache only.
	Signatures Signatures
}

// Signatures remembers accepted signatures across replicas;
// *service.SignatureLog implements it.
type Signatures interface {
	// Remember records sig, accepted for action (a write or not) and safe
	// to forget after expires, unless it was recorded before; it returns
	// the first record and whether this one is it.
	Remember(ctx context.Context, sig, action string, write bool, expires time.Time) (service.RememberedSignature, bool, error)
}

// handler serves the API.
type handler struct {
	svc     Service
	log     *slog.Logger
	now     func() time.Time
	maxBody int64
	newID   func() string
	metrics *metrics
	actions map[string]action
	admit   *admission
	replay  *replayCache // nil only in benchmarks that measure its cost
	trusted []netip.Prefix
	shared  Signatures // nil: no replica shares the replay check
}

// NewHandler returns the API's HTTP handler with every route registered:
// POST / (and GET / with the query form) for actions, GET /healthz and
// GET /metrics.
func NewHandler(opts Options) http.Handler {
	return newHandler(opts, newReplayCache(opts.ReplayCacheEntries))
}

// newHandler returns the handler with the given replay cache (nil: none).
func newHandler(opts Options, replay *replayCache) http.Handler {
	h := &handler{
		svc:     opts.Service,
		log:     opts.Logger,
		now:     opts.Clock,
		maxBody: opts.MaxBodyBytes,
		newID:   opts.NewRequestID,
		metrics: newMetrics(),
		actions: actions(),
		replay:  replay,
		trusted: opts.TrustedProxies,
		shared:  opts.Signatures,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.newID == nil {
		h.newID = uuid.NewString
	}
	h.admit = newAdmission(h.maxBody)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{$}", h.admit.wrap(h.serveAction))
	mux.HandleFunc("GET /{$}", h.admit.wrap(h.serveAction))
	mux.HandleFunc("GET /healthz", h.serveHealth)
	mux.Handle("GET /metrics", h.metrics.handler())
	return mux
}

func (h *handler) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// call is one authenticated action request as a handler sees it.
type call struct {
	ctx     context.Context
	caller  service.Caller
	source  netip.Addr // the address the request came from, if known
	service string     // the action's service: vpc, cvm or palisade
	action  string
	body    []byte // JSON
}

// decode unmarshals the request body, a JSON object (an empty body is
// one with no fields), into v.
func (c *call) decode(v any) error {
	body := bytes.TrimSpace(c.body)
	switch {
	case len(body) == 0:
		return nil
	case string(body) == "null":
		return newAPIError(codeInvalidParameter, "the request body must be a JSON object, not null")
	}
	return json.Unmarshal(body, v)
}

func (h *handler) serveAction(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	reqID := h.newID()
	c := &call{ctx: r.Context(), action: r.Header.Get(client.HeaderAction), source: clientAddress(r, h.trusted)}
	label := "unknown"
	if a, ok := h.actions[c.action]; ok {
		label = c.action
		c.service = a.service
	}
	result, err := h.run(w, r, c, reqID)
	code := "OK"
	if err != nil {
		we := toWire(err, c.service, c.action)
		code = we.Code
		if we.Internal {
			h.log.LogAttrs(r.Context(), slog.LevelError, "api internal error",
				slog.String("request_id", reqID), slog.String("action", c.action), slog.Any("error", err))
		}
		writeEnvelope(w, map[string]any{"Error": map[string]string{"Code": we.Code, "Message": we.Message}}, reqID)
	} else {
		writeEnvelope(w, result, reqID)
	}
	d := h.now().Sub(start)
	h.metrics.observe(label, code, d)
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "api request",
		slog.String("request_id", reqID),
		slog.String("action", c.action),
		slog.String("account", c.caller.AccountID),
		slog.String("secret_id", c.caller.SecretID),
		slog.String("region", c.caller.Region),
		slog.String("code", code),
		slog.Duration("duration", d),
		slog.String("remote", r.RemoteAddr))
}

// run authenticates the request, finds its action and runs it.
func (h *handler) run(w http.ResponseWriter, r *http.Request, c *call, reqID string) (any, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, newAPIError(codeRequestTooLarge, "the request body exceeds %d bytes", h.maxBody)
		}
		return nil, newAPIError(codeInvalidParameter, "read request body: %v", err)
	}
	auth, ts, cred, err := h.authenticate(r, body)
	if err != nil {
		// Logged with the SecretId that was tried; no account is named,
		// as none was proven.
		c.caller.SecretID = auth.secretID
		return nil, err
	}
	region := r.Header.Get(client.HeaderRegion)
	c.caller = cred.Caller(region, reqID)

	// Actions are dispatched on their name, which is unique across the
	// services served, whatever service the credential scope names: the
	// Node.js SDK names the endpoint's first DNS label ("127" for
	// 127.0.0.1). The signature was verified with the service signed.
	a, ok := h.actions[c.action]
	switch {
	case c.action == "":
		return nil, newAPIError(codeMissingParameter, "the X-TC-Action header is required")
	case !ok:
		return nil, newAPIError(codeInvalidAction, "action %q does not exist", c.action)
	}
	if h.replay != nil {
		if err := h.replay.check(auth.signature, ts, c.action, a.write, h.now()); err != nil {
			return nil, err
		}
	}
	sctx := c.ctx
	if cred.Role != service.RoleHost {
		sctx = service.Urgent(sctx) // before the agents' reports
	}
	if err := h.checkShared(sctx, auth, ts, c.action, a.write); err != nil {
		return nil, err
	}
	if v, want := r.Header.Get(client.HeaderVersion), wire.ServiceVersion(a.service); a.service != "palisade" && v != "" && v != want {
		return nil, newAPIError(codeNoSuchVersion, "version %q of %s does not exist; use %s", v, a.service, want)
	}
	if a.write && cred.Role == service.RoleReadOnly {
		return nil, newAPIError(codeUnauthorized, "credential %s is read-only and cannot call %s", cred.SecretID, c.action)
	}
	switch {
	case cred.Role == service.RoleHost && !a.host:
		return nil, newAPIError(codeUnauthorized, "a host credential cannot call %s", c.action)
	case a.host && cred.Role != service.RoleHost:
		return nil, newAPIError(codeUnauthorized, "%s is for a host credential only; credential %s is a %s credential", c.action, cred.SecretID, cred.Role)
	}

	c.body = body
	if r.Method == http.MethodGet {
		c.body, err = queryToJSON(r.URL.Query())
		if err != nil {
			return nil, newAPIError(codeInvalidParameter, "%v", err)
		}
	}
	return a.run(h, c)
}

// authenticate verifies the TC3-HMAC-SHA256 signature and returns it, the
// request's timestamp and the credential that signed the request. On
// failure the authorization is returned as far as it was parsed.
func (h *handler) authenticate(r *http.Request, body []byte) (authorization, int64, service.Credential, error) {
	raw := r.Header.Get("Authorization")
	if raw == "" {
		return authorization{}, 0, service.Credential{}, authError(codeInvalidAuthorization, "the Authorization header is required")
	}
	auth, err := parseAuthorization(raw)
	if err != nil {
		return auth, 0, service.Credential{}, err
	}
	cred, err := h.svc.LookupCredential(r.Context(), auth.secretID)
	if err != nil {
		var se *service.Error
		if errors.As(err, &se) && se.Kind == service.KindNotFound {
			return auth, 0, cred, authError(codeSecretIDNotFound, "SecretId %s does not exist", auth.secretID)
		}
		return auth, 0, cred, err
	}
	ts, err := requestTimestamp(r, h.now())
	if err != nil {
		return auth, 0, cred, err
	}
	if err := verifySignature(r, body, auth, ts, cred.SecretKey); err != nil {
		return auth, 0, cred, err
	}
	return auth, ts, cred, nil
}

// writeEnvelope writes {"Response": {…result, "RequestId": id}} with HTTP
// 200. result marshals to a JSON object (nil writes only the RequestId).
func writeEnvelope(w http.ResponseWriter, result any, reqID string) {
	var b bytes.Buffer
	b.WriteString(`{"Response":`)
	obj := []byte("{}")
	if result != nil {
		var err error
		if obj, err = json.Marshal(result); err != nil || len(obj) < 2 || obj[0] != '{' {
			obj = []byte(`{"Error":{"Code":"InternalError","Message":"internal error"}}`)
		}
	}
	b.Write(obj[:len(obj)-1])
	if len(obj) > 2 {
		b.WriteByte(',')
	}
	b.WriteString(`"RequestId":`)
	id, _ := json.Marshal(reqID)
	b.Write(id)
	b.WriteString("}}")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

// clientAddress returns the address r came from: its connection's, or,
// when that is a trusted proxy, the last address of X-Forwarded-For that
// is not one (invalid when none can be read).
func clientAddress(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a := ap.Addr().Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(a) {
		return a
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{} // a header that does not parse: the source is unknown
		}
		if h = h.Unmap(); !isTrusted(h) {
			return h
		}
	}
	return a
}
