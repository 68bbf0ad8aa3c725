package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"skill-engine/sdk-go"
)

func TestGreetUsesTheGreetingSetting(t *testing.T) {
	skill.UseTestHost(&skill.TestHost{Config: map[string]string{"greeting": "Hi"}})
	out, err := skill.Call("greet", map[string]any{"name": "Go"})
	if err != nil || out.Text != "Hi, Go!" {
		t.Fatalf("got %q, %v", out.Text, err)
	}
}

func TestStats(t *testing.T) {
	out, err := skill.Call("stats", map[string]any{"numbers": []float64{1, 2, 3, 4}, "measure": "median"})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]float64
	if err := out.Decode(&got); err != nil || got["median"] != 2.5 {
		t.Fatalf("got %v, %v", got, err)
	}
	_, err = skill.Call("stats", map[string]any{"numbers": []float64{}})
	var e *skill.Error
	if !errors.As(err, &e) || e.Kind != skill.KindInvalidArgs {
		t.Fatalf("want invalid-args, got %v", err)
	}
}

func TestCountReportsProgress(t *testing.T) {
	host := &skill.TestHost{}
	skill.UseTestHost(host)
	if _, err := skill.Call("count", map[string]any{"to": 4}); err != nil {
		t.Fatal(err)
	}
	if len(host.Progress) != 4 || host.Progress[3].Percent != 100 {
		t.Fatalf("progress: %+v", host.Progress)
	}
}

func TestFetchPostsItsBody(t *testing.T) {
	// Natively, skillhttp goes through net/http: a test server stands in for the API.
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", r.Method, body)
	}))
	defer server.Close()
	out, err := skill.Call("fetch", map[string]any{"url": server.URL, "body": "hi"})
	if err != nil || out.Text != "200 POST hi" {
		t.Fatalf("got %q, %v", out.Text, err)
	}
}
