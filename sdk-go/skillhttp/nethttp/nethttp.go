// Package nethttp makes net/http use the host's wasi:http in a component: importing it sets
// http.DefaultTransport, so http.Get, http.Post and any http.Client without a Transport of
// its own go through the host, within the hosts the user granted.
//
//	import _ "skill-engine/sdk-go/skillhttp/nethttp"
//
// It costs about 11 MB of component (net/http's TLS, HTTP/2 and server code); skillhttp's
// own client does not. Natively (go test) nothing changes.
package nethttp

import (
	"io"
	"net/http"
	"strconv"

	"skill-engine/sdk-go/skillhttp"
)

// Transport is an http.RoundTripper over skillhttp (natively: Go's own transport). It does
// not follow redirects itself: http.Client does, each one a request of its own.
type Transport struct{}

func roundTripVia(req *http.Request) (*http.Response, error) {
	var body io.Reader
	if req.Body != nil && req.Body != http.NoBody {
		body = req.Body
		defer req.Body.Close() // a RoundTripper closes the body, even on errors
	}
	header := skillhttp.Header{}
	for name, values := range req.Header {
		header[name] = values
	}
	if req.Host != "" && req.Host != req.URL.Host {
		// The host sets Host from the URL; a different one cannot be sent.
		return nil, &skillhttp.Error{Code: "HTTP-request-URI-invalid", Detail: "a Host other than the URL's"}
	}
	resp, err := skillhttp.RoundTrip(&skillhttp.Request{
		Method:        req.Method,
		URL:           req.URL.String(),
		Header:        header,
		Body:          body,
		ContentLength: req.ContentLength,
		Context:       req.Context(),
	})
	if err != nil {
		return nil, err
	}
	length := int64(-1)
	if n, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
		length = n
	}
	return &http.Response{
		Status:        strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode),
		StatusCode:    resp.StatusCode,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header(resp.Header),
		Body:          resp.Body,
		ContentLength: length,
		Request:       req,
	}, nil
}
