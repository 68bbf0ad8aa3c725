// Example skill in standard Go. Parameters are the fields of each tool's argument struct;
// `[]float64` is a JSON parameter, a pointer is optional.
package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"skill-engine/sdk-go"
	"skill-engine/sdk-go/skillhttp"
)

type GreetArgs struct {
	Name string `desc:"Who to greet."`
}

type StatsArgs struct {
	Numbers []float64 `desc:"The numbers, as a JSON array."`
	Measure string    `desc:"Which measure to return." choices:"mean,median,stdev,all" default:"all"`
}

type WrapArgs struct {
	Text  string `desc:"The text to wrap."`
	Width int    `desc:"The longest line." default:"40"`
}

type CountArgs struct {
	To int `desc:"Count from 1 to this (at most 100)."`
}

type NoteArgs struct {
	Text string `desc:"What to remember."`
}

type ReadArgs struct {
	Path skill.File `desc:"A file in a directory the user granted (skill grant --fs)."`
}

type FetchArgs struct {
	URL  string  `desc:"An http(s) URL on a host the user granted (skill grant --net)."`
	Body *string `desc:"Sent as the body of a POST; without it, a GET."`
}

type EnvArgs struct {
	Name string `desc:"The variable's name."`
}

const statsSchema = `{"type": "object", "properties": {
  "mean": {"type": "number"}, "median": {"type": "number"}, "stdev": {"type": "number"}}}`

func init() {
	skill.Tool("greet", "Say hello to someone (the `greeting` setting says how).", greet,
		skill.Title("Greet someone"), skill.ReadOnly(true), skill.OpenWorld(false))
	skill.Tool("stats", "Describe a list of numbers.", stats,
		skill.Title("Describe numbers"), skill.ReadOnly(true), skill.OpenWorld(false),
		skill.OutputSchema(statsSchema))
	skill.Tool("wrap", "Wrap text to lines of at most `width` characters.", wrap)
	skill.Tool("count", "Count, reporting progress on the way.", count)
	skill.Tool("env", "Read an environment variable the user granted (`skill grant --env`).", env)
	skill.Tool("note", "Remember a line in the instance's own /data; says how many there are.", note)
	skill.Tool("read", "Show the first 200 bytes of a file.", read, skill.ReadOnly(true))
	skill.Tool("fetch", "GET a URL (or POST a body to it); returns the status and the body (its first 1000 bytes when longer).", fetch,
		skill.OpenWorld(true))
}

func greet(a GreetArgs) (string, error) {
	greeting, ok := skill.Config("greeting")
	if !ok || greeting == "" {
		greeting = "Hello"
	}
	return fmt.Sprintf("%s, %s!", greeting, a.Name), nil
}

func stats(a StatsArgs) (map[string]float64, error) {
	n := len(a.Numbers)
	if n == 0 {
		return nil, skill.InvalidArgs("numbers must be a non-empty JSON array of numbers")
	}
	skill.Log.Debug("%d numbers", n)
	sorted := slices.Sorted(slices.Values(a.Numbers))
	mean := 0.0
	for _, x := range sorted {
		mean += x / float64(n)
	}
	median := sorted[n/2]
	if n%2 == 0 {
		median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	variance := 0.0
	for _, x := range sorted {
		variance += (x - mean) * (x - mean)
	}
	stdev := 0.0
	if n > 1 {
		stdev = math.Sqrt(variance / float64(n-1))
	}
	all := map[string]float64{"mean": mean, "median": median, "stdev": stdev}
	if a.Measure == "all" {
		return all, nil
	}
	return map[string]float64{a.Measure: all[a.Measure]}, nil
}

func wrap(a WrapArgs) (string, error) {
	if a.Width < 1 {
		return "", skill.InvalidArgs("width must be at least 1")
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(a.Text) {
		if line != "" && len(line)+1+len(word) > a.Width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), nil
}

func count(a CountArgs) (skill.Output, error) {
	if a.To < 1 || a.To > 100 {
		return skill.Output{}, skill.InvalidArgs("to must be between 1 and 100")
	}
	for i := 1; i <= a.To; i++ {
		skill.Progress(i*100/a.To, fmt.Sprintf("%d of %d", i, a.To))
	}
	return skill.Output{Text: fmt.Sprintf("counted to %d", a.To), Data: []byte(fmt.Sprintf(`{"counted":%d}`, a.To))}, nil
}

func env(a EnvArgs) (string, error) {
	value, ok := os.LookupEnv(a.Name)
	if !ok {
		return "", skill.Failed("%s is not set in the sandbox", a.Name)
	}
	return value, nil
}

func note(a NoteArgs) (string, error) {
	f, err := os.OpenFile("/data/notes.txt", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", skill.Failed("opening the notes: %v", err)
	}
	defer f.Close()
	if _, err := fmt.Fprintln(f, a.Text); err != nil {
		return "", skill.Failed("writing the note: %v", err)
	}
	all, err := os.ReadFile("/data/notes.txt")
	if err != nil {
		return "", skill.Failed("reading the notes: %v", err)
	}
	return fmt.Sprintf("%d notes", strings.Count(string(all), "\n")), nil
}

func read(a ReadArgs) (string, error) {
	f, err := os.Open(string(a.Path))
	if err != nil {
		return "", skill.Failed("%v", err)
	}
	defer f.Close()
	buf := make([]byte, 200)
	n, _ := f.Read(buf)
	return string(buf[:n]), nil
}

func fetch(a FetchArgs) (string, error) {
	var resp *skillhttp.Response
	var err error
	if a.Body == nil {
		resp, err = skillhttp.Get(a.URL)
	} else {
		resp, err = skillhttp.Post(a.URL, "text/plain", []byte(*a.Body))
	}
	if err != nil {
		return "", skill.Failed("%v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return "", skill.Failed("reading the response: %v", err)
	}
	if len(body) > 1000 {
		return fmt.Sprintf("%d %s… (%d bytes)", resp.StatusCode, body[:1000], len(body)), nil
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, body), nil
}

// A Go skill is a library the host calls; main never runs.
func main() {}
