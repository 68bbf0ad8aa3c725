package skillhttp

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHeaderNamesAreCanonical(t *testing.T) {
	h := Header{}
	h.Set("content-type", "text/plain")
	h.Add("X-API-KEY", "a")
	h.Add("x-api-key", "b")
	if h.Get("Content-Type") != "text/plain" || len(h["X-Api-Key"]) != 2 {
		t.Fatalf("got %v", h)
	}
}

func TestPostSendsBodyLengthAndAgent(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Method+" "+r.UserAgent()+" "+r.Header.Get("Content-Type"))
		io.WriteString(w, strings.ToUpper(string(body))+" "+r.Header.Get("Content-Length"))
	}))
	defer server.Close()
	resp, err := Post(server.URL, "text/plain", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "HELLO 5" || resp.Header.Get("x-seen") != "POST skill-go text/plain" {
		t.Fatalf("got %q, %v", body, resp.Header)
	}
}

func TestRedirectsDropCredentialsOnAnotherHost(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "other auth="+r.Header.Get("Authorization"))
	}))
	defer other.Close()
	var first *httptest.Server
	first = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/end", http.StatusFound)
		case "/away":
			http.Redirect(w, r, other.URL+"/end", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			io.WriteString(w, "first auth="+r.Header.Get("Authorization"))
		}
	}))
	defer first.Close()
	get := func(path string) (string, error) {
		resp, err := Do(&Request{URL: first.URL + path, Header: Header{"Authorization": {"Bearer t"}}})
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body), nil
	}
	if got, err := get("/same"); got != "first auth=Bearer t" {
		t.Fatalf("same host: %q, %v", got, err)
	}
	if got, err := get("/away"); got != "other auth=" {
		t.Fatalf("another host: %q, %v", got, err)
	}
	_, err := get("/loop")
	var e *Error
	if !errors.As(err, &e) || e.Code != "loop-detected" {
		t.Fatalf("want loop-detected, got %v", err)
	}
	// A POST returns the redirect itself.
	resp, err := Do(&Request{Method: "POST", URL: first.URL + "/same", Body: strings.NewReader("x"), ContentLength: 1})
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("got %v, %v", resp, err)
	}
	resp.Body.Close()
}

func TestOnlyHTTPURLs(t *testing.T) {
	for _, url := range []string{"file:///etc/passwd", "ftp://example.com/", "://"} {
		var e *Error
		if _, err := Get(url); !errors.As(err, &e) || e.Code != "HTTP-request-URI-invalid" {
			t.Errorf("%s: got %v", url, err)
		}
	}
}

func TestOnlyRedirectsAreFollowed(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/not-modified" {
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "elsewhere")
	}))
	defer server.Close()
	resp, err := Get(server.URL + "/not-modified")
	if err != nil || resp.StatusCode != http.StatusNotModified {
		t.Fatalf("got %v, %v", resp, err)
	}
	resp.Body.Close()
}

func TestCredentialsInTheURLAreRefused(t *testing.T) {
	var e *Error
	_, err := Get("http://user:secret@127.0.0.1:1/")
	if !errors.As(err, &e) || e.Code != "HTTP-request-URI-invalid" || strings.Contains(err.Error(), "secret") {
		t.Fatalf("got %v", err)
	}
}
