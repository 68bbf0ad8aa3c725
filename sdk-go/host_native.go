//go:build !wasip1

package skill

// TestHost stands in for the host when a skill's tools run natively, in `go test`:
//
//	h := &skill.TestHost{Config: map[string]string{"api_key": "k"}}
//	skill.UseTestHost(h)
//	out, err := skill.Call("greet", map[string]any{"name": "World"})
type TestHost struct {
	Config map[string]string
	// What the tools logged and reported, in order.
	Logs     []LogLine
	Progress []ProgressReport
	// Answers CallTool; nil fails every call.
	Tools func(skill, tool string, args map[string]any) (Output, error)
}

type LogLine struct {
	Level   LogLevel
	Message string
}

type ProgressReport struct {
	// Negative when not known.
	Percent int
	Message string
}

var currentHost host = &TestHost{}

// UseTestHost makes h the host for the calls that follow.
func UseTestHost(h *TestHost) { currentHost = h }

// Call runs a registered tool as the host would: arguments by name, defaults for the ones
// left out, a tool error as an *Error.
func Call(tool string, args map[string]any) (Output, error) {
	converted, err := argsOf(args)
	if err != nil {
		return Output{}, err
	}
	out, fail := execute(tool, converted)
	if fail != nil {
		return Output{}, fail
	}
	return out, nil
}

func (h *TestHost) configGet(key string) (string, bool) {
	v, ok := h.Config[key]
	return v, ok
}

func (h *TestHost) log(level LogLevel, message string) {
	h.Logs = append(h.Logs, LogLine{level, message})
}

func (h *TestHost) progress(percent int, message string) {
	if percent < 0 {
		percent = -1
	}
	h.Progress = append(h.Progress, ProgressReport{percent, message})
}

func (h *TestHost) callTool(skill, tool string, args []arg) (Output, *Error) {
	if h.Tools == nil {
		return Output{}, &Error{Kind: KindFailed, Message: "TestHost.Tools is not set"}
	}
	byName := make(map[string]any, len(args))
	for _, a := range args {
		byName[a.name] = a.value.any()
	}
	out, err := h.Tools(skill, tool, byName)
	if err != nil {
		return Output{}, toolError(err)
	}
	return out, nil
}
