//go:build !wasip1

package skillhttp

import (
	"context"
	"net/http"
	"net/url"
)

// Natively (go test) requests go through Go's own net/http; Do follows redirects itself.
var native = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func roundTrip(method string, target *url.URL, req *Request) (*Response, error) {
	ctx := req.Context
	if ctx == nil {
		ctx = context.Background()
	}
	r, err := http.NewRequestWithContext(ctx, method, target.String(), req.Body)
	if err != nil {
		return nil, &Error{Code: "HTTP-request-URI-invalid", Detail: err.Error()}
	}
	if req.Body != nil {
		r.ContentLength = req.ContentLength
	}
	for _, e := range headerEntries(req) {
		r.Header.Add(e[0], e[1])
	}
	resp, err := native.Do(r)
	if err != nil {
		return nil, &Error{Code: "internal-error", Detail: err.Error()}
	}
	return &Response{StatusCode: resp.StatusCode, Header: Header(resp.Header), Body: resp.Body}, nil
}
