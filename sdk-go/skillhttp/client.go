// Package skillhttp is a small HTTP client for Go skills. In a component, requests go out
// through the host's wasi:http, within the network hosts the skill declared and the user
// granted; in `go test` (natively) they go through Go's net/http, so tests can point a tool
// at an httptest.Server.
//
//	resp, err := skillhttp.Get("https://api.github.com/repos/owner/name/issues")
//	if err != nil { ... }
//	defer resp.Body.Close()
//
// It does not use net/http in a component: net/http adds about 11 MB to a skill (its TLS,
// HTTP/2 and server code are linked in whenever it is imported). Code that needs an
// http.Client (a third-party API client, say) can import skillhttp/nethttp instead, which
// makes net/http use the host.
//
// What the host decides, not the skill: connections, TLS, proxies and the Host header. A host
// that is not granted fails with an *Error whose Code is "HTTP-request-denied". A deadline on
// the request's context bounds connecting, the first response byte and each wait between
// bytes; a request whose context is done is not sent, and its body stops reading. The call's
// own time limit bounds everything. Goroutines may share the client, but a wait in the host
// blocks the whole instance: requests from several goroutines do not run in parallel.
package skillhttp

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Header is a request's or response's header fields, by canonical name
// (textproto.CanonicalMIMEHeaderKey, as net/http).
type Header map[string][]string

// Get returns the first value of a field.
func (h Header) Get(name string) string {
	if v := h[canonical(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces a field's values.
func (h Header) Set(name, value string) { h[canonical(name)] = []string{value} }

// Add appends a value to a field.
func (h Header) Add(name, value string) {
	name = canonical(name)
	h[name] = append(h[name], value)
}

// canonical: "content-type" → "Content-Type".
func canonical(name string) string {
	b := []byte(strings.ToLower(name))
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		upper = c == '-'
	}
	return string(b)
}

// Request is what Do sends.
type Request struct {
	Method string // "" means GET
	URL    string
	Header Header
	// Sent as the body when not nil; ContentLength, when known, sets Content-Length.
	Body          io.Reader
	ContentLength int64
	// Bounds connecting and waiting for the response's head, when it has a deadline.
	Context context.Context
}

// Response is what came back. Close its Body when done: that gives the host its resources.
type Response struct {
	StatusCode int
	Header     Header
	Body       io.ReadCloser
	// The URL that answered, after redirects.
	URL string
}

// Error is a failed request, as the host reports it: the wasi:http error-code case
// ("connection-refused", "HTTP-request-denied", ...) and any detail the host gave.
type Error struct {
	Code   string
	Detail string
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("HTTP request failed: %s (%s)", e.Code, e.Detail)
	}
	return "HTTP request failed: " + e.Code
}

// Get fetches url, following redirects.
func Get(url string) (*Response, error) { return Do(&Request{URL: url}) }

// Post sends body to url with the given Content-Type.
func Post(url, contentType string, body []byte) (*Response, error) {
	return Do(&Request{
		Method:        "POST",
		URL:           url,
		Header:        Header{"Content-Type": {contentType}},
		Body:          strings.NewReader(string(body)),
		ContentLength: int64(len(body)),
	})
}

// Do sends a request. A GET or HEAD follows up to 10 redirects, each a request of its own
// (so the host checks each one against the grants); other methods return the redirect.
func Do(req *Request) (*Response, error) {
	method, target, err := prepare(req)
	if err != nil {
		return nil, err
	}
	for redirects := 0; ; redirects++ {
		resp, err := roundTrip(method, target, req)
		if err != nil {
			return nil, err
		}
		resp.URL = target.String()
		location := resp.Header.Get("Location")
		if (method != "GET" && method != "HEAD") || location == "" || !redirects3xx[resp.StatusCode] {
			return resp, nil
		}
		resp.Body.Close()
		if redirects == 10 {
			return nil, &Error{Code: "loop-detected", Detail: "more than 10 redirects"}
		}
		next, err := target.Parse(location)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
			return nil, &Error{Code: "HTTP-request-URI-invalid", Detail: "redirected to a URL that is not http(s)"}
		}
		if next.User != nil {
			return nil, &Error{Code: "HTTP-request-URI-invalid", Detail: "redirected to a URL with credentials"}
		}
		// Credentials stay with the host they were meant for, and off plain HTTP.
		req = redirected(req, next.Host != target.Host || (target.Scheme == "https" && next.Scheme != "https"))
		target = next
	}
}

// RoundTrip sends one request and returns its response, a redirect included.
func RoundTrip(req *Request) (*Response, error) {
	method, target, err := prepare(req)
	if err != nil {
		return nil, err
	}
	resp, err := roundTrip(method, target, req)
	if err == nil {
		resp.URL = target.String()
	}
	return resp, err
}

func prepare(req *Request) (string, *url.URL, error) {
	target, err := url.Parse(req.URL)
	if err != nil {
		return "", nil, &Error{Code: "HTTP-request-URI-invalid", Detail: err.Error()}
	}
	if target.Scheme != "http" && target.Scheme != "https" {
		return "", nil, &Error{Code: "HTTP-request-URI-invalid", Detail: "not an http(s) URL: " + target.Redacted()}
	}
	if target.User != nil {
		// Never sent (the host takes the host name only) and never silently dropped.
		return "", nil, &Error{Code: "HTTP-request-URI-invalid",
			Detail: "the URL carries credentials (user:password@); send them in an Authorization header"}
	}
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = "GET"
	}
	return method, target, nil
}

// The redirects Do follows (as net/http): not 300, 304 (a conditional GET's answer) or 305.
var redirects3xx = map[int]bool{301: true, 302: true, 303: true, 307: true, 308: true}

// redirected is the request that follows a redirect: no body and, on another host, none of
// the credentials (as net/http).
func redirected(req *Request, otherHost bool) *Request {
	header := Header{}
	for name, values := range req.Header {
		switch canonical(name) {
		case "Authorization", "Cookie", "Www-Authenticate", "Proxy-Authorization":
			if otherHost {
				continue
			}
		case "Content-Length", "Content-Type":
			continue
		}
		header[name] = values
	}
	return &Request{Header: header, Context: req.Context}
}

// headerEntries lists the fields to send: the caller's, with a User-Agent and, when the
// length is known, Content-Length; not those the host sets itself or forbids (hop-by-hop).
func headerEntries(req *Request) [][2]string {
	var entries [][2]string
	agent, length := false, false
	for name, values := range req.Header {
		name = canonical(name)
		switch name {
		case "Host", "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding",
			"Upgrade", "Te", "Trailer":
			continue
		case "User-Agent":
			agent = true
		case "Content-Length":
			length = true
		}
		for _, v := range values {
			entries = append(entries, [2]string{name, v})
		}
	}
	if !agent {
		entries = append(entries, [2]string{"User-Agent", "skill-go"})
	}
	if !length && req.Body != nil && req.ContentLength > 0 {
		entries = append(entries, [2]string{"Content-Length", fmt.Sprint(req.ContentLength)})
	}
	return entries
}
