// Package client is a small Go client for Palisade's Tencent Cloud API 3.0
// compatible endpoint: it signs requests with TC3-HMAC-SHA256 and has one
// typed method per action served, taking and returning the types of package
// wire (CreateSecurityGroupPolicies, DescribeInstances, SimulateTraffic, …),
// plus Call for any action with a raw JSON body. An error answered by the
// server is an *Error carrying the API error code. The official Tencent
// Cloud SDKs work against the same endpoint; this package exists for
// Palisade's own tools, the agent and tests.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/wire"
)

// maxResponseBytes bounds how much of a response Call reads.
const maxResponseBytes = 64 << 20

// Client calls one Palisade endpoint with one credential. It is safe for
// concurrent use.
type Client struct {
	url       string
	host      string
	secretID  string
	secretKey string
	region    string
	http      *http.Client
	now       func() time.Time
}

// New returns a client for endpoint ("http://127.0.0.1:7480", or a bare
// "host:port", which means plain HTTP) signing with the given credential and
// sending region in X-TC-Region (empty sends none).
func New(endpoint, secretID, secretKey, region string) *Client {
	if !strings.Contains(endpoint, "://") {
		endpoint = "http://" + endpoint
	}
	endpoint = strings.TrimRight(endpoint, "/")
	host := endpoint[strings.Index(endpoint, "://")+3:]
	return &Client{
		url:       endpoint + "/",
		host:      host,
		secretID:  secretID,
		secretKey: secretKey,
		region:    region,
		// Longer than WatchHostState's longest wait.
		http: &http.Client{Timeout: 90 * time.Second},
		now:  time.Now,
	}
}

// WithHTTPClient returns a copy of c that sends requests through hc.
func (c *Client) WithHTTPClient(hc *http.Client) *Client {
	d := *c
	d.http = hc
	return &d
}

// WithTransport returns a copy of c that sends requests through rt,
// keeping c's timeout.
func (c *Client) WithTransport(rt http.RoundTripper) *Client {
	d := *c
	hc := *c.http
	hc.Transport = rt
	d.http = &hc
	return &d
}

// WithRegion returns a copy of c that sends region in X-TC-Region.
func (c *Client) WithRegion(region string) *Client {
	d := *c
	d.region = region
	return &d
}

// WithClock returns a copy of c that signs with timestamps from now.
func (c *Client) WithClock(now func() time.Time) *Client {
	d := *c
	d.now = now
	return &d
}

// Region returns the region c sends.
func (c *Client) Region() string { return c.region }

// Error is an error answered by the server in the response envelope:
// Code is the API error code ("UnsupportedOperation.VersionMismatch",
// "InvalidParameterValue.Malformed", …). Use errors.As to get it from an
// error a method returns.
type Error struct {
	Code      string
	Message   string
	RequestID string
}

// Error returns "Code: Message (request RequestID)".
func (e *Error) Error() string {
	if e.RequestID == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s (request %s)", e.Code, e.Message, e.RequestID)
}

// envelope is the response body: {"Response": {...}}.
type envelope struct {
	Response json.RawMessage `json:"Response"`
}

type errorBody struct {
	Error *struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
	} `json:"Error"`
	RequestID string `json:"RequestId"`
}

// Call sends action of service (e.g. wire.ServiceVPC) at version (e.g.
// wire.Version) with body as the JSON request (nil or empty sends {}) and
// returns the Response object of the answer, RequestId included, as the
// server wrote it. It serves actions that have no typed method yet and
// callers that hold JSON; the typed methods are built on it. An error
// answered by the server is an *Error.
func (c *Client) Call(ctx context.Context, service, version, action string, body json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		body = json.RawMessage("{}")
	}
	return c.do(ctx, service, version, action, body)
}

// invoke sends req (nil sends {}) as action of service at the version
// served for it (wire.ServiceVersion) and decodes the Response object into
// a Resp.
func invoke[Resp, Req any](ctx context.Context, c *Client, service, action string, req *Req) (*Resp, error) {
	var body []byte
	if req != nil {
		b, err := json.Marshal(req)
		if err != nil {
			return nil, fmt.Errorf("encode %s request: %w", action, err)
		}
		body = b
	}
	raw, err := c.Call(ctx, service, wire.ServiceVersion(service), action, body)
	if err != nil {
		return nil, err
	}
	resp := new(Resp)
	if err := json.Unmarshal(raw, resp); err != nil {
		return nil, fmt.Errorf("decode %s response: %w", action, err)
	}
	return resp, nil
}

// do sends one signed request and returns the Response object of a
// successful answer.
func (c *Client) do(ctx context.Context, service, version, action string, body []byte) (json.RawMessage, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", action, err)
	}
	r.Host = c.host
	r.Header.Set(HeaderAction, action)
	r.Header.Set(HeaderVersion, version)
	if c.region != "" {
		r.Header.Set(HeaderRegion, c.region)
	}
	SignWithAction(r, body, c.secretID, c.secretKey, service, c.now())
	res, err := c.http.Do(r)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", action, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("call %s: read response: %w", action, err)
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil || len(env.Response) == 0 {
		return nil, fmt.Errorf("call %s: HTTP %d: not an API response: %.200q", action, res.StatusCode, data)
	}
	var eb errorBody
	if err := json.Unmarshal(env.Response, &eb); err != nil {
		return nil, fmt.Errorf("call %s: decode response: %w", action, err)
	}
	if eb.Error != nil && eb.Error.Code != "" {
		return nil, &Error{Code: eb.Error.Code, Message: eb.Error.Message, RequestID: eb.RequestID}
	}
	return env.Response, nil
}
