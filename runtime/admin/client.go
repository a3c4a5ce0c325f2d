package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// DefaultURL is where ctl looks for the admin API without --admin.
const DefaultURL = "http://127.0.0.1:8080"

// Client calls a running proxy's admin API.
type Client struct {
	// BaseURL is the admin API root, e.g. http://127.0.0.1:8080.
	BaseURL string
	// Token is sent as a bearer token when set.
	Token string
	// HTTP is the client used; nil means one with a 10s timeout.
	HTTP *http.Client
}

// APIError is a 4xx or 5xx answer; Message is the server's "error" text.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
}

// NewClient returns a client for the admin API at base.
func NewClient(base, token string) *Client {
	return &Client{BaseURL: base, Token: token}
}

// Do sends one request and returns the raw JSON answer. body, when not
// nil, is sent as JSON. A 4xx or 5xx answer is an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	res, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin API %s: %w", c.BaseURL, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("admin API %s %s: reading answer: %w", method, path, err)
	}
	if res.StatusCode >= 400 {
		return nil, apiError(res.StatusCode, data)
	}
	return data, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

// defaultHTTP bounds every admin call: a proxy that hangs must not hang ctl.
var defaultHTTP = &http.Client{Timeout: 10 * time.Second}

func (c *Client) newRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encoding request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return nil, fmt.Errorf("admin URL %q: %w", c.BaseURL, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

// apiError extracts the server's message, falling back to the raw body
// for answers that do not come from sipfront (a proxy in between).
func apiError(code int, data []byte) error {
	var e Error
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return &APIError{Status: code, Message: e.Error}
	}
	msg := strings.TrimSpace(string(data))
	if msg == "" {
		msg = http.StatusText(code)
	}
	return &APIError{Status: code, Message: msg}
}

// get decodes the answer of a GET into out.
func (c *Client) get(ctx context.Context, path string, out any) error {
	return c.call(ctx, http.MethodGet, path, nil, out)
}

func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	data, err := c.Do(ctx, method, path, body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("admin API %s %s: bad answer: %w", method, path, err)
	}
	return nil
}

// Status fetches GET /v1/status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	return &s, c.get(ctx, "/v1/status", &s)
}

// Pools fetches GET /v1/pools.
func (c *Client) Pools(ctx context.Context) (*Pools, error) {
	var p Pools
	return &p, c.get(ctx, "/v1/pools", &p)
}

// Calls fetches GET /v1/calls, of one member when member is not "".
func (c *Client) Calls(ctx context.Context, member graph.ID) (*Calls, error) {
	var cs Calls
	return &cs, c.get(ctx, CallsPath(member), &cs)
}

// CallsPath is the path of the calls of member ("" for all).
func CallsPath(member graph.ID) string {
	if member == "" {
		return "/v1/calls"
	}
	return "/v1/calls?member=" + url.QueryEscape(string(member))
}

// Overrides fetches GET /v1/overrides.
func (c *Client) Overrides(ctx context.Context) (*Overrides, error) {
	var o Overrides
	return &o, c.get(ctx, "/v1/overrides", &o)
}

// Graph fetches GET /v1/graph.
func (c *Client) Graph(ctx context.Context) (*Graph, error) {
	var g Graph
	return &g, c.get(ctx, "/v1/graph", &g)
}

// Reload asks the proxy to reload its policy; a refused policy is an
// *APIError with status 422 whose message holds the diagnostics.
func (c *Client) Reload(ctx context.Context) (*Reloaded, error) {
	var r Reloaded
	return &r, c.call(ctx, http.MethodPost, "/v1/reload", nil, &r)
}

// MemberPath is the path of a member action.
func MemberPath(member graph.ID, action string) string {
	return "/v1/members/" + url.PathEscape(string(member)) + "/" + action
}

// SetMode enables, disables or drains a member (action "enable", "disable"
// or "drain").
func (c *Client) SetMode(ctx context.Context, member graph.ID, action string) (*MemberView, error) {
	var m MemberView
	return &m, c.call(ctx, http.MethodPost, MemberPath(member, action), nil, &m)
}

// SetWeight overrides a member's weight.
func (c *Client) SetWeight(ctx context.Context, member graph.ID, weight int) (*MemberView, error) {
	var m MemberView
	return &m, c.call(ctx, http.MethodPut, MemberPath(member, "weight"), WeightRequest{Weight: &weight}, &m)
}

// SetCapacity overrides a member's capacity of one resource.
func (c *Client) SetCapacity(ctx context.Context, member graph.ID, resource string, capacity int) (*MemberView, error) {
	var m MemberView
	body := CapacityRequest{Resource: resource, Capacity: &capacity}
	return &m, c.call(ctx, http.MethodPut, MemberPath(member, "capacity"), body, &m)
}

// Clear removes a member's override.
func (c *Client) Clear(ctx context.Context, member graph.ID) (*MemberView, error) {
	var m MemberView
	return &m, c.call(ctx, http.MethodDelete, MemberPath(member, "override"), nil, &m)
}
