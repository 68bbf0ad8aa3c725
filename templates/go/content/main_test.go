package main

import (
	"errors"
	"testing"

	"skill-engine/sdk-go"
)

// `skill test` runs these natively (go test), with the SDK's stand-in host.
func TestGreet(t *testing.T) {
	out, err := skill.Call("greet", map[string]any{"name": "World"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Text != "Hello, World!" {
		t.Fatalf("got %q", out.Text)
	}
}

func TestGreetNeedsAName(t *testing.T) {
	_, err := skill.Call("greet", map[string]any{})
	var e *skill.Error
	if !errors.As(err, &e) || e.Kind != skill.KindInvalidArgs {
		t.Fatalf("want invalid-args, got %v", err)
	}
}
