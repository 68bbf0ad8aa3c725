package skill

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type allKinds struct {
	Text     string            `desc:"Some text."`
	Count    int               `default:"3"`
	Small    int8              `skill:"small,optional"`
	Ratio    float64           `choices:"0.5,1"`
	Flag     bool              `skill:"flag"`
	Path     File              `desc:"A file."`
	Items    []string          `desc:"As JSON."`
	Limit    *int              // optional: nil when not given
	Mode     string            `default:"fast"`
	internal string            //nolint:unused // unexported fields are not parameters
	Skipped  string            `skill:"-"`
	Tags     map[string]string `skill:"tags,optional"`
}

func TestParamsFollowTheStruct(t *testing.T) {
	fields, err := paramsOf(reflect.TypeFor[allKinds]())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ParamDef{}
	var order []string
	for _, f := range fields {
		got[f.def.Name] = f.def
		order = append(order, f.def.Name)
	}
	want := []string{"text", "count", "small", "ratio", "flag", "path", "items", "limit", "mode", "tags"}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("order %v", order)
	}
	check := func(name string, kind ParamKind, required bool, def string) {
		t.Helper()
		p := got[name]
		if p.Kind != kind || p.Required != required || p.Default != def {
			t.Errorf("%s: %+v", name, p)
		}
	}
	check("text", KindString, true, "")
	check("count", KindInteger, false, "3")
	check("small", KindInteger, false, "")
	check("ratio", KindNumber, true, "")
	check("flag", KindBoolean, true, "")
	check("path", KindFile, true, "")
	check("items", KindJSON, true, "")
	check("limit", KindInteger, false, "")
	check("mode", KindString, false, `"fast"`)
	check("tags", KindJSON, false, "")
	if got["ratio"].Choices[1] != "1" || got["text"].Description != "Some text." {
		t.Errorf("%+v", got)
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{"MaxWidth": "max_width", "URL": "url", "UserID": "user_id", "A": "a", "HTTPServer": "http_server"} {
		if got := snakeCase(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func TestBadStructsAreRefused(t *testing.T) {
	type twice struct {
		A string `skill:"x"`
		B string `skill:"x"`
	}
	type badDefault struct {
		N int `default:"many"`
	}
	type badOption struct {
		N int `skill:"n,required"`
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[twice](), reflect.TypeFor[badDefault](), reflect.TypeFor[badOption](), reflect.TypeFor[int]()} {
		if _, err := paramsOf(typ); err == nil {
			t.Errorf("%s was accepted", typ)
		}
	}
}

type echoArgs struct {
	Text  string
	Times int `default:"2"`
	Limit *int
	List  []int `skill:"list,optional"`
}

func init() {
	Tool("echo", "Repeat text.", func(a echoArgs) (string, error) {
		out := strings.Repeat(a.Text, a.Times)
		if a.Limit != nil && len(out) > *a.Limit {
			out = out[:*a.Limit]
		}
		return out, nil
	})
	Tool("sum", "Add up.", func(a echoArgs) (map[string]int, error) {
		total := 0
		for _, n := range a.List {
			total += n
		}
		return map[string]int{"sum": total}, nil
	}, Title("Sum"), ReadOnly(true), OutputSchema(`{"type":"object"}`))
	Tool("fails", "Always fails.", func(struct{}) (string, error) {
		return "", NotConfigured("no %s", "key")
	})
	Tool("plain-error", "Fails with a plain error.", func(struct{}) (string, error) {
		return "", errors.New("disk full")
	})
	Tool("panics", "Panics.", func(struct{}) (string, error) {
		var m map[string]int
		m["x"] = 1
		return "", nil
	})
	Tool("no-data", "Declares a schema, returns text.", func(struct{}) (string, error) {
		return "text", nil
	}, OutputSchema(`{"type":"object"}`))
	Tool("host", "Uses the host.", func(struct{}) (Output, error) {
		key, err := RequireConfig("key")
		if err != nil {
			return Output{}, err
		}
		Log.Info("using %d characters", len(key))
		Progress(150, "done")
		Progress(-5, "unknown")
		out, err := CallTool("other", "tool", map[string]any{"n": 2, "s": "x", "list": []int{1}})
		if err != nil {
			return Output{}, err
		}
		return Output{Text: "called: " + out.Text}, nil
	})
}

func kindOfErr(err error) ErrorKind {
	var e *Error
	if !errors.As(err, &e) {
		return -1
	}
	return e.Kind
}

func TestCallsConvertArgumentsAndResults(t *testing.T) {
	out, err := Call("echo", map[string]any{"text": "ab"})
	if err != nil || out.Text != "abab" || out.Data != nil {
		t.Fatalf("%+v %v", out, err)
	}
	out, _ = Call("echo", map[string]any{"text": "ab", "times": 3, "limit": 5})
	if out.Text != "ababa" {
		t.Fatalf("%q", out.Text)
	}
	out, err = Call("sum", map[string]any{"text": "", "list": []int{1, 2, 3}})
	if err != nil || string(out.Data) != `{"sum":6}` || out.Text != `{"sum":6}` {
		t.Fatalf("%+v %v", out, err)
	}
	// A JSON parameter given as text, an integer too large for its field, a wrong kind.
	if _, err := Call("sum", map[string]any{"text": "", "list": "[1"}); kindOfErr(err) != KindInvalidArgs {
		t.Fatalf("bad JSON: %v", err)
	}
	if _, err := Call("echo", map[string]any{"text": "a", "times": "many"}); kindOfErr(err) != KindInvalidArgs {
		t.Fatalf("wrong kind: %v", err)
	}
	if _, err := Call("echo", map[string]any{}); kindOfErr(err) != KindInvalidArgs || !strings.Contains(err.Error(), `"text"`) {
		t.Fatalf("missing: %v", err)
	}
}

func TestErrorsKeepTheirKind(t *testing.T) {
	cases := map[string]ErrorKind{"fails": KindNotConfigured, "plain-error": KindFailed, "panics": KindFailed, "no-data": KindFailed, "nope": KindUnknownTool}
	for tool, want := range cases {
		_, err := Call(tool, nil)
		if kindOfErr(err) != want {
			t.Errorf("%s: %v, want %s", tool, err, want)
		}
	}
	_, err := Call("panics", nil)
	if !strings.Contains(err.Error(), "panicked") {
		t.Errorf("%v", err)
	}
}

func TestTheStandInHost(t *testing.T) {
	host := &TestHost{}
	UseTestHost(host)
	if _, err := Call("host", nil); kindOfErr(err) != KindNotConfigured {
		t.Fatalf("no key: %v", err)
	}
	var seen map[string]any
	host = &TestHost{
		Config: map[string]string{"key": "secret"},
		Tools: func(skill, tool string, args map[string]any) (Output, error) {
			seen = args
			return Output{Text: skill + "/" + tool}, nil
		},
	}
	UseTestHost(host)
	out, err := Call("host", nil)
	if err != nil || out.Text != "called: other/tool" {
		t.Fatalf("%+v %v", out, err)
	}
	if seen["n"] != int64(2) || seen["s"] != "x" || !reflect.DeepEqual(seen["list"], []any{1.0}) {
		t.Errorf("args %#v", seen)
	}
	if len(host.Logs) != 1 || host.Logs[0].Level != LevelInfo || host.Logs[0].Message != "using 6 characters" {
		t.Errorf("logs %+v", host.Logs)
	}
	if len(host.Progress) != 2 || host.Progress[0].Percent != 100 || host.Progress[1].Percent != -1 {
		t.Errorf("progress %+v", host.Progress)
	}
}

func TestToolsAndDetails(t *testing.T) {
	var names []string
	for _, d := range Tools() {
		names = append(names, d.Name)
		if d.Name == "sum" && (!d.hasDetails() || d.Title != "Sum" || *d.ReadOnly != true) {
			t.Errorf("%+v", d)
		}
		if d.Name == "echo" && d.hasDetails() {
			t.Errorf("echo has no details: %+v", d)
		}
	}
	if !reflect.DeepEqual(names, []string{"echo", "fails", "host", "no-data", "panics", "plain-error", "sum"}) {
		t.Errorf("%v", names)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	Tool("echo", "again", func(struct{}) (string, error) { return "", nil })
}

func TestConfigValidatorAndOutputDecode(t *testing.T) {
	ConfigValidator = func(c map[string]string) error {
		if c["region"] == "" {
			return errors.New("region is required")
		}
		return nil
	}
	defer func() { ConfigValidator = nil }()
	if err := validateConfig([][2]string{{"region", ""}}); err == nil {
		t.Error("accepted")
	}
	if err := validateConfig([][2]string{{"region", "eu"}}); err != nil {
		t.Error(err)
	}
	var v map[string]int
	if err := (Output{Data: json.RawMessage(`{"a":1}`)}).Decode(&v); err != nil || v["a"] != 1 {
		t.Error(v, err)
	}
	if err := (Output{}).Decode(&v); err == nil {
		t.Error("no data decoded")
	}
}
