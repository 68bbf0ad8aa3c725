// Package skill writes skill tools in Go.
//
//	type GreetArgs struct {
//		Name string `desc:"Who to greet."`
//	}
//
//	func init() {
//		skill.Tool("greet", "Say hello to someone.", func(a GreetArgs) (string, error) {
//			return "Hello, " + a.Name + "!", nil
//		})
//	}
//
//	func main() {}
//
// `skill build` compiles the package with standard Go (GOOS=wasip1, -buildmode=c-shared) and
// turns it into a component of the skill contract; the tools registered here become its
// `guest` export. Parameters come from the fields of the tool's argument struct (see Tool).
package skill

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
)

// Output is a tool's result: Text for people (CLI, MCP text), Data as JSON for programs
// (MCP structuredContent, HTTP `data`). A tool may also return a string (text only) or any
// other value (returned as JSON, in both Text and Data).
type Output struct {
	Text string
	// JSON; empty means none.
	Data json.RawMessage
}

// ErrorKind says how a tool failed; hosts show each kind differently.
type ErrorKind int

const (
	// Failed: the tool ran and could not do its work.
	KindFailed ErrorKind = iota
	// InvalidArgs: the arguments make no sense (the caller should change them).
	KindInvalidArgs
	// NotConfigured: the instance lacks a setting (`skill config`).
	KindNotConfigured
	// UnknownTool: no tool of that name.
	KindUnknownTool
)

func (k ErrorKind) String() string {
	switch k {
	case KindInvalidArgs:
		return "invalid-args"
	case KindNotConfigured:
		return "not-configured"
	case KindUnknownTool:
		return "unknown-tool"
	default:
		return "failed"
	}
}

// Error is a tool error of a given kind. Any other error a tool returns is KindFailed.
type Error struct {
	Kind    ErrorKind
	Message string
}

func (e *Error) Error() string { return e.Kind.String() + ": " + e.Message }

// InvalidArgs is the error for arguments the tool cannot use.
func InvalidArgs(format string, a ...any) error {
	return &Error{Kind: KindInvalidArgs, Message: fmt.Sprintf(format, a...)}
}

// NotConfigured is the error for a missing or unusable setting of the instance.
func NotConfigured(format string, a ...any) error {
	return &Error{Kind: KindNotConfigured, Message: fmt.Sprintf(format, a...)}
}

// Failed is the error for work that could not be done.
func Failed(format string, a ...any) error {
	return &Error{Kind: KindFailed, Message: fmt.Sprintf(format, a...)}
}

// toolError turns whatever a tool returned or panicked with into a tool error.
func toolError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindFailed, Message: err.Error()}
}

// ParamKind is how the host converts and checks an argument (the contract's param-kind).
type ParamKind uint8

const (
	KindString ParamKind = iota
	KindInteger
	KindNumber
	KindBoolean
	KindJSON
	KindFile
)

// File is a string parameter naming a file or directory; hosts advertise it as a path.
type File string

// ParamDef describes one parameter, as the host sees it.
type ParamDef struct {
	Name        string
	Description string
	Kind        ParamKind
	Required    bool
	// JSON literal used when the caller omits the argument; empty means none.
	Default string
	Choices []string
}

// ToolDef describes one tool, as the host sees it.
type ToolDef struct {
	Name        string
	Description string
	Params      []ParamDef
	Title       string
	ReadOnly    *bool
	Destructive *bool
	Idempotent  *bool
	OpenWorld   *bool
	// JSON Schema (of an object) that every successful result's Data follows.
	OutputSchema string
}

// hasDetails says whether the tool has anything for describe-tools.
func (t *ToolDef) hasDetails() bool {
	return t.Title != "" || t.ReadOnly != nil || t.Destructive != nil || t.Idempotent != nil ||
		t.OpenWorld != nil || t.OutputSchema != ""
}

// ToolOption adds a title, behaviour hints or an output schema to a tool.
type ToolOption func(*ToolDef)

// Title is a short name people read ("List S3 buckets").
func Title(title string) ToolOption { return func(t *ToolDef) { t.Title = title } }

// ReadOnly declares whether the tool changes nothing in its environment.
func ReadOnly(v bool) ToolOption { return func(t *ToolDef) { t.ReadOnly = &v } }

// Destructive declares whether the tool may delete or overwrite.
func Destructive(v bool) ToolOption { return func(t *ToolDef) { t.Destructive = &v } }

// Idempotent declares whether calling it again with the same arguments changes nothing more.
func Idempotent(v bool) ToolOption { return func(t *ToolDef) { t.Idempotent = &v } }

// OpenWorld declares whether the tool reaches an open world (the web) or a closed domain.
func OpenWorld(v bool) ToolOption { return func(t *ToolDef) { t.OpenWorld = &v } }

// OutputSchema declares the JSON Schema (an object schema) of the results' Data. Every
// successful call must then return a JSON object.
func OutputSchema(schema string) ToolOption { return func(t *ToolDef) { t.OutputSchema = schema } }

type registered struct {
	def  ToolDef
	call func(args map[string]value) (Output, error)
}

var registry = map[string]*registered{}

// Tool registers a tool (call it from an init function). The fields of A are its parameters:
//
//	type Args struct {
//		Text    string   `desc:"The text to wrap."`
//		Width   int      `desc:"The longest line." default:"40"`
//		Measure string   `choices:"mean,median,all" default:"all"`
//		Numbers []float64 `skill:"numbers" desc:"As a JSON array."`
//		Limit   *int     // a pointer is optional: nil when not given
//	}
//
// A field's parameter name is its `skill` tag, else its name in snake_case. Its kind follows
// its type: string, File, integers, floats, bool, and JSON for anything else (slices, maps,
// structs). A parameter is required unless it is a pointer, has a `default` (a JSON literal;
// plain text for strings) or is tagged `skill:"name,optional"`. Use struct{} for no
// parameters. R may be string (text), Output, or any other value (returned as JSON).
// Registering a name twice, or a struct the host could not describe, panics at start.
func Tool[A any, R any](name, description string, fn func(A) (R, error), options ...ToolOption) {
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("skill: tool %q is registered twice", name))
	}
	argType := reflect.TypeFor[A]()
	fields, err := paramsOf(argType)
	if err != nil {
		panic(fmt.Sprintf("skill: tool %q: %v", name, err))
	}
	def := ToolDef{Name: name, Description: description}
	for _, f := range fields {
		def.Params = append(def.Params, f.def)
	}
	for _, option := range options {
		option(&def)
	}
	registry[name] = &registered{
		def: def,
		call: func(args map[string]value) (Output, error) {
			var a A
			if err := fill(reflect.ValueOf(&a).Elem(), fields, args); err != nil {
				return Output{}, err
			}
			result, err := fn(a)
			if err != nil {
				return Output{}, err
			}
			return outputOf(result)
		},
	}
}

// Tools lists the registered tools, sorted by name.
func Tools() []ToolDef {
	defs := make([]ToolDef, 0, len(registry))
	for _, r := range registry {
		defs = append(defs, r.def)
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	return defs
}

func outputOf(result any) (Output, error) {
	switch r := result.(type) {
	case Output:
		return r, nil
	case *Output:
		if r == nil {
			return Output{}, nil
		}
		return *r, nil
	case string:
		return Output{Text: r}, nil
	}
	data, err := json.Marshal(result)
	if err != nil {
		return Output{}, Failed("the result is not JSON: %v", err)
	}
	return Output{Text: string(data), Data: data}, nil
}

// execute runs a tool by name, turning errors and panics into tool errors.
func execute(name string, args []arg) (out Output, fail *Error) {
	r, ok := registry[name]
	if !ok {
		return Output{}, &Error{Kind: KindUnknownTool, Message: name}
	}
	defer func() {
		if p := recover(); p != nil {
			out, fail = Output{}, &Error{Kind: KindFailed, Message: fmt.Sprintf("the tool panicked: %v", p)}
		}
	}()
	byName := make(map[string]value, len(args))
	for _, a := range args {
		byName[a.name] = a.value
	}
	out, err := r.call(byName)
	if err != nil {
		return Output{}, toolError(err)
	}
	if r.def.OutputSchema != "" && !isJSONObject(out.Data) {
		return Output{}, toolError(Failed("tool %q declares an output schema but returned no JSON object as data", name))
	}
	return out, nil
}

func isJSONObject(data json.RawMessage) bool {
	var object map[string]json.RawMessage
	return len(data) > 0 && json.Unmarshal(data, &object) == nil && object != nil
}

// SkillInfo is the skill's identity; `skill build` sets it from skill.yaml.
type SkillInfo struct {
	Name, Version, Description  string
	Author, License, Repository string
}

var info = SkillInfo{Name: "unnamed", Version: "0.0.0"}

// buildInfo is skill.yaml's identity as base64 of JSON, set by `skill build` with
// `-ldflags -X` (base64 survives the go command's splitting of -ldflags).
var buildInfo string

func init() {
	if buildInfo == "" {
		return
	}
	raw, err := base64.StdEncoding.DecodeString(buildInfo)
	if err == nil {
		err = json.Unmarshal(raw, &info)
	}
	if err != nil {
		panic("skill: the build's skill info is unreadable: " + err.Error())
	}
}

// Info is the skill's identity as built.
func Info() SkillInfo { return info }

// ConfigValidator checks an instance's settings before they are saved (`skill config`);
// an error message is shown to the user. Set it from an init function.
var ConfigValidator func(config map[string]string) error
