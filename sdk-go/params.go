package skill

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"unicode"
)

// valueKind is the case of the contract's `value` variant.
type valueKind uint8

const (
	valueText valueKind = iota
	valueInteger
	valueNumber
	valueBoolean
	valueJSON
)

// value is an argument as the host checked it: text (also JSON text for valueJSON), an
// integer, a number or a boolean.
type value struct {
	kind    valueKind
	text    string
	integer int64
	number  float64
	boolean bool
}

type arg struct {
	name  string
	value value
}

// field is one parameter and where it goes in the argument struct.
type field struct {
	def      ParamDef
	index    int
	optional bool
}

var fileType = reflect.TypeFor[File]()

// paramsOf describes the exported fields of a tool's argument struct.
func paramsOf(t reflect.Type) ([]field, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("the argument type %s is not a struct (use struct{} for no parameters)", t)
	}
	var fields []field
	seen := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, optional := snakeCase(sf.Name), false
		if tag, ok := sf.Tag.Lookup("skill"); ok {
			parts := strings.Split(tag, ",")
			if parts[0] == "-" {
				continue
			}
			if parts[0] != "" {
				name = parts[0]
			}
			for _, option := range parts[1:] {
				if option != "optional" {
					return nil, fmt.Errorf("field %s: unknown skill tag option %q", sf.Name, option)
				}
				optional = true
			}
		}
		if seen[name] {
			return nil, fmt.Errorf("two fields are the parameter %q", name)
		}
		seen[name] = true
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
			optional = true
		}
		def := ParamDef{Name: name, Description: sf.Tag.Get("desc"), Kind: kindOf(ft)}
		if choices, ok := sf.Tag.Lookup("choices"); ok && choices != "" {
			def.Choices = strings.Split(choices, ",")
		}
		if d, ok := sf.Tag.Lookup("default"); ok {
			if !json.Valid([]byte(d)) {
				if def.Kind != KindString && def.Kind != KindFile {
					return nil, fmt.Errorf("field %s: default %q is not a JSON literal", sf.Name, d)
				}
				quoted, _ := json.Marshal(d)
				d = string(quoted)
			}
			def.Default = d
			optional = true
		}
		def.Required = !optional
		fields = append(fields, field{def: def, index: i, optional: optional})
	}
	return fields, nil
}

func kindOf(t reflect.Type) ParamKind {
	if t == fileType {
		return KindFile
	}
	switch t.Kind() {
	case reflect.String:
		return KindString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return KindInteger
	case reflect.Float32, reflect.Float64:
		return KindNumber
	case reflect.Bool:
		return KindBoolean
	default:
		return KindJSON
	}
}

// snakeCase: "MaxWidth" → "max_width", "URL" → "url", "UserID" → "user_id".
func snakeCase(name string) string {
	runes := []rune(name)
	var b strings.Builder
	for i, r := range runes {
		if unicode.IsUpper(r) {
			startsWord := i > 0 && (unicode.IsLower(runes[i-1]) ||
				(i+1 < len(runes) && unicode.IsLower(runes[i+1]) && unicode.IsUpper(runes[i-1])))
			if startsWord {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fill sets the argument struct's fields from the call's arguments (defaults for those
// omitted); a value that does not fit its field is an invalid-args error.
func fill(s reflect.Value, fields []field, args map[string]value) error {
	for _, f := range fields {
		v, given := args[f.def.Name]
		if !given && f.def.Default != "" {
			v, given = value{kind: valueJSON, text: f.def.Default}, true
		}
		if !given {
			if f.optional {
				continue
			}
			return InvalidArgs("missing required parameter %q", f.def.Name)
		}
		target := s.Field(f.index)
		if target.Kind() == reflect.Pointer {
			target.Set(reflect.New(target.Type().Elem()))
			target = target.Elem()
		}
		if err := set(target, v); err != nil {
			return InvalidArgs("parameter %q: %v", f.def.Name, err)
		}
	}
	return nil
}

func set(target reflect.Value, v value) error {
	if v.kind == valueJSON {
		return json.Unmarshal([]byte(v.text), target.Addr().Interface())
	}
	switch target.Kind() {
	case reflect.String:
		if v.kind != valueText {
			return fmt.Errorf("expected text")
		}
		target.SetString(v.text)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := integerOf(v)
		if err != nil {
			return err
		}
		if target.OverflowInt(n) {
			return fmt.Errorf("%d is out of range", n)
		}
		target.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := integerOf(v)
		if err != nil {
			return err
		}
		if n < 0 || target.OverflowUint(uint64(n)) {
			return fmt.Errorf("%d is out of range", n)
		}
		target.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		switch v.kind {
		case valueNumber:
			target.SetFloat(v.number)
		case valueInteger:
			target.SetFloat(float64(v.integer))
		default:
			return fmt.Errorf("expected a number")
		}
	case reflect.Bool:
		if v.kind != valueBoolean {
			return fmt.Errorf("expected true or false")
		}
		target.SetBool(v.boolean)
	default:
		// A JSON parameter given as text, a number or a boolean.
		raw, err := json.Marshal(v.any())
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, target.Addr().Interface())
	}
	return nil
}

func integerOf(v value) (int64, error) {
	switch v.kind {
	case valueInteger:
		return v.integer, nil
	case valueNumber:
		if v.number == math.Trunc(v.number) && math.Abs(v.number) < 1<<53 {
			return int64(v.number), nil
		}
	}
	return 0, fmt.Errorf("expected an integer")
}

// any is the value as plain Go data (JSON decoded).
func (v value) any() any {
	switch v.kind {
	case valueInteger:
		return v.integer
	case valueNumber:
		return v.number
	case valueBoolean:
		return v.boolean
	case valueJSON:
		var decoded any
		if json.Unmarshal([]byte(v.text), &decoded) == nil {
			return decoded
		}
	}
	return v.text
}

// valueOf turns a Go value into an argument for CallTool.
func valueOf(x any) (value, error) {
	switch n := x.(type) {
	case string:
		return value{kind: valueText, text: n}, nil
	case File:
		return value{kind: valueText, text: string(n)}, nil
	case bool:
		return value{kind: valueBoolean, boolean: n}, nil
	case int:
		return value{kind: valueInteger, integer: int64(n)}, nil
	case int32:
		return value{kind: valueInteger, integer: int64(n)}, nil
	case int64:
		return value{kind: valueInteger, integer: n}, nil
	case uint32:
		return value{kind: valueInteger, integer: int64(n)}, nil
	case float32:
		return value{kind: valueNumber, number: float64(n)}, nil
	case float64:
		return value{kind: valueNumber, number: n}, nil
	}
	raw, err := json.Marshal(x)
	if err != nil {
		return value{}, err
	}
	return value{kind: valueJSON, text: string(raw)}, nil
}
