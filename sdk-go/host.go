package skill

import (
	"encoding/json"
	"fmt"
	"sort"
)

// LogLevel is the contract's log-level.
type LogLevel uint8

const (
	LevelTrace LogLevel = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
)

// host is what the host gives a skill: the component's imports, or a stand-in in native tests.
type host interface {
	configGet(key string) (string, bool)
	log(level LogLevel, message string)
	progress(percent int, message string)
	callTool(skill, tool string, args []arg) (Output, *Error)
}

// Config returns a setting of the current instance (`skill config`), secrets decrypted.
func Config(key string) (string, bool) { return currentHost.configGet(key) }

// RequireConfig returns a setting, or a not-configured error naming it.
func RequireConfig(key string) (string, error) {
	if v, ok := Config(key); ok && v != "" {
		return v, nil
	}
	return "", NotConfigured("%q is not set; run `skill config <skill> --set %s`", key, key)
}

// Logger sends log lines to the host (stderr of `skill run`, MCP log notifications).
type Logger struct{}

// Log is the skill's logger: skill.Log.Info("fetched %d items", n).
var Log Logger

func (Logger) Trace(format string, a ...any) { currentHost.log(LevelTrace, fmt.Sprintf(format, a...)) }
func (Logger) Debug(format string, a ...any) { currentHost.log(LevelDebug, fmt.Sprintf(format, a...)) }
func (Logger) Info(format string, a ...any)  { currentHost.log(LevelInfo, fmt.Sprintf(format, a...)) }
func (Logger) Warn(format string, a ...any)  { currentHost.log(LevelWarn, fmt.Sprintf(format, a...)) }
func (Logger) Error(format string, a ...any) { currentHost.log(LevelError, fmt.Sprintf(format, a...)) }

// Progress reports how far the call is (0-100; a negative percent means unknown), for MCP
// progress notifications and HTTP `progress` events.
func Progress(percent int, message string) {
	if percent > 100 {
		percent = 100
	}
	currentHost.progress(percent, message)
}

// CallTool calls a tool of another skill, which skill.yaml must list in
// `skill_dependencies`. Arguments are strings, numbers, booleans, or anything else as JSON.
// The callee's tool error comes back as an *Error of the same kind.
func CallTool(skill, tool string, args map[string]any) (Output, error) {
	converted, err := argsOf(args)
	if err != nil {
		return Output{}, err
	}
	out, fail := currentHost.callTool(skill, tool, converted)
	if fail != nil {
		return Output{}, fail
	}
	return out, nil
}

// argsOf turns arguments by name into the contract's list, in name order.
func argsOf(args map[string]any) ([]arg, error) {
	names := make([]string, 0, len(args))
	for name := range args {
		names = append(names, name)
	}
	sort.Strings(names)
	converted := make([]arg, 0, len(args))
	for _, name := range names {
		v, err := valueOf(args[name])
		if err != nil {
			return nil, InvalidArgs("argument %q is not JSON: %v", name, err)
		}
		converted = append(converted, arg{name: name, value: v})
	}
	return converted, nil
}

// Decode unmarshals an Output's Data into v.
func (o Output) Decode(v any) error {
	if len(o.Data) == 0 {
		return fmt.Errorf("the output has no data")
	}
	return json.Unmarshal(o.Data, v)
}

// validateConfig runs ConfigValidator, if the skill set one.
func validateConfig(pairs [][2]string) error {
	if ConfigValidator == nil {
		return nil
	}
	config := make(map[string]string, len(pairs))
	for _, p := range pairs {
		config[p[0]] = p[1]
	}
	return ConfigValidator(config)
}
