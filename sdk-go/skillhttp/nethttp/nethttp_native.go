//go:build !wasip1

package nethttp

import "net/http"

// Go's own transport, as it was before anything replaced it.
var native = http.DefaultTransport

func (Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return native.RoundTrip(req)
}
