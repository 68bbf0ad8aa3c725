//go:build wasip1

package nethttp

import "net/http"

func init() { http.DefaultTransport = Transport{} }

func (Transport) RoundTrip(req *http.Request) (*http.Response, error) { return roundTripVia(req) }
