//go:build wasip1

// The component side: the contract's guest functions as wasm exports and its host functions
// as wasm imports, under the canonical ABI of skill-engine:skill@0.3.0 (wit/skill.wit).
// wit-bindgen has no Go generator that runs without the Go module proxy, so the lifting and
// lowering of the contract's types is written out here; the offsets are the canonical ABI's
// layouts of those records and variants (each noted where it is used).
//
// Memory: everything handed to the host lives in Go byte slices held in `keep`, so the
// garbage collector (which does not move heap objects) keeps them until the host is done:
// the post-return function of an export, or the end of an import call.

package skill

import (
	"runtime/debug"
	"unsafe"
)

// The garbage collector is off whenever the host may call cabi_realloc: a collection reads
// the clock through WASI, and an instance may not call out while the host is lowering values
// into it (wasmtime traps: "cannot leave component instance"). It is on while a tool runs,
// except around the host calls that return values (config-get, call-tool).
func init() { debug.SetGCPercent(-1) }

// gcOn turns the collector on for a tool's own work; the returned function turns it off.
func gcOn() func() {
	debug.SetGCPercent(100)
	return func() { debug.SetGCPercent(-1) }
}

// gcOffDuring turns the collector off around a host call that returns values.
func gcOffDuring() func() {
	debug.SetGCPercent(-1)
	return func() { debug.SetGCPercent(100) }
}

// Buffers the host may still read or has just written; see the file comment.
var keep [][]byte

// alloc returns the address of size zeroed bytes aligned to align, kept until release.
func alloc(size, align uint32) uint32 {
	if size == 0 {
		return align
	}
	buf := make([]byte, size+align)
	keep = append(keep, buf)
	p := uint32(uintptr(unsafe.Pointer(&buf[0])))
	return (p + align - 1) &^ (align - 1)
}

// release lets the garbage collector have every buffer allocated since mark.
func release(mark int) {
	clear(keep[mark:])
	keep = keep[:mark]
}

// The WASI preview1 adapter's memory (its state and its stack). The adapter allocates on the
// first WASI call, and the Go runtime makes that call while it starts, before any Go function
// can run; so the adapter cannot use cabi_realloc. `skill build` finds this array by its
// marker and replaces the body of cabi_realloc_adapter (which wit-component links to the
// adapter) with a bump allocator over it, in plain WebAssembly (toolchain/build/src/pipeline/
// go.rs). Its size and marker are part of that agreement.
// 4 MiB: the adapter copies the environment into it (granted variables can be large); as
// zeros it costs no file size, and untouched pages no memory.
const adapterArenaSize = 4 << 20

var adapterArena = [adapterArenaSize]byte{
	's', 'k', 'i', 'l', 'l', ':', 'a', 'd', 'a', 'p', 't', 'e', 'r', ':', 'a', 'r', 'e', 'n', 'a', ':', 'v', '2',
	adapterArenaSize - 23: 's', 'k', 'i', 'l', 'l', ':', 'a', 'd', 'a', 'p', 't', 'e', 'r', ':', 'a', 'r', 'e', 'n', 'a', ':', 'e', 'n', 'd',
}

// Replaced at build time (see adapterArena); this body only keeps the arena in the binary.
//
//go:wasmexport cabi_realloc_adapter
func cabiReallocAdapter(old, oldSize, align, newSize uint32) uint32 {
	return uint32(uintptr(unsafe.Pointer(&adapterArena[0])))
}

//go:wasmexport cabi_realloc
func cabiRealloc(old, oldSize, align, newSize uint32) uint32 {
	p := alloc(newSize, align)
	if old != 0 {
		copy(mem(p, min(oldSize, newSize)), mem(old, min(oldSize, newSize)))
	}
	return p
}

func mem(p, n uint32) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), n)
}

func load8(p uint32) uint8   { return *(*uint8)(unsafe.Pointer(uintptr(p))) }
func load32(p uint32) uint32 { return *(*uint32)(unsafe.Pointer(uintptr(p))) }
func load64(p uint32) uint64 { return *(*uint64)(unsafe.Pointer(uintptr(p))) }

func store8(p uint32, v uint8)   { *(*uint8)(unsafe.Pointer(uintptr(p))) = v }
func store32(p uint32, v uint32) { *(*uint32)(unsafe.Pointer(uintptr(p))) = v }

// loadString copies a string (ptr, len at p) out of the host's buffer.
func loadString(p uint32) string { return string(mem(load32(p), load32(p+4))) }

// loadOptString reads option<string> (discriminant byte, string at +4).
func loadOptString(p uint32) (string, bool) {
	if load8(p) == 0 {
		return "", false
	}
	return loadString(p + 4), true
}

// lowerString copies s into a kept buffer.
func lowerString(s string) (uint32, uint32) {
	p := alloc(uint32(len(s)), 1)
	copy(mem(p, uint32(len(s))), s)
	return p, uint32(len(s))
}

func storeString(at uint32, s string) {
	p, n := lowerString(s)
	store32(at, p)
	store32(at+4, n)
}

func storeOptString(at uint32, s string, present bool) {
	if !present {
		return // the buffer is zeroed: discriminant 0
	}
	store8(at, 1)
	storeString(at+4, s)
}

func storeOptBool(at uint32, b *bool) {
	if b != nil {
		store8(at, 1)
		if *b {
			store8(at+1, 1)
		}
	}
}

// storeList allocates n elements of size bytes (align 4) and stores (ptr, len) at `at`.
func storeList(at uint32, n int, size uint32) uint32 {
	p := alloc(uint32(n)*size, 4)
	store32(at, p)
	store32(at+4, uint32(n))
	return p
}

// skill-info: name@0 version@8 description@16 author@24 license@36 repository@48 (60 bytes).
//
//go:wasmexport skill-engine:skill/guest@0.3.0#info
func exportInfo() uint32 {
	ret := alloc(60, 4)
	storeString(ret, info.Name)
	storeString(ret+8, info.Version)
	storeString(ret+16, info.Description)
	storeOptString(ret+24, info.Author, info.Author != "")
	storeOptString(ret+36, info.License, info.License != "")
	storeOptString(ret+48, info.Repository, info.Repository != "")
	return ret
}

//go:wasmexport cabi_post_skill-engine:skill/guest@0.3.0#info
func postInfo(uint32) { release(0) }

// list<tool>; tool: name@0 description@8 params@16 (24 bytes); param: name@0
// description@8 kind@16 required@17 default-value@20 choices@32 (40 bytes).
//
//go:wasmexport skill-engine:skill/guest@0.3.0#tools
func exportTools() uint32 {
	defs := Tools()
	ret := alloc(8, 4)
	tools := storeList(ret, len(defs), 24)
	for i, d := range defs {
		t := tools + uint32(i)*24
		storeString(t, d.Name)
		storeString(t+8, d.Description)
		params := storeList(t+16, len(d.Params), 40)
		for j, p := range d.Params {
			at := params + uint32(j)*40
			storeString(at, p.Name)
			storeString(at+8, p.Description)
			store8(at+16, uint8(p.Kind))
			if p.Required {
				store8(at+17, 1)
			}
			storeOptString(at+20, p.Default, p.Default != "")
			choices := storeList(at+32, len(p.Choices), 8)
			for k, c := range p.Choices {
				storeString(choices+uint32(k)*8, c)
			}
		}
	}
	return ret
}

//go:wasmexport cabi_post_skill-engine:skill/guest@0.3.0#tools
func postTools(uint32) { release(0) }

// list<tool-details>; tool-details: tool@0 title@8 annotations@20 (four option<bool>, two
// bytes each) output-schema@28 (40 bytes).
//
//go:wasmexport skill-engine:skill/guest@0.3.0#describe-tools
func exportDescribeTools() uint32 {
	var described []ToolDef
	for _, d := range Tools() {
		if d.hasDetails() {
			described = append(described, d)
		}
	}
	ret := alloc(8, 4)
	list := storeList(ret, len(described), 40)
	for i, d := range described {
		at := list + uint32(i)*40
		storeString(at, d.Name)
		storeOptString(at+8, d.Title, d.Title != "")
		storeOptBool(at+20, d.ReadOnly)
		storeOptBool(at+22, d.Destructive)
		storeOptBool(at+24, d.Idempotent)
		storeOptBool(at+26, d.OpenWorld)
		storeOptString(at+28, d.OutputSchema, d.OutputSchema != "")
	}
	return ret
}

//go:wasmexport cabi_post_skill-engine:skill/guest@0.3.0#describe-tools
func postDescribeTools(uint32) { release(0) }

// Arguments: list<arg>; arg: name@0 value@8 (24 bytes); value: case byte @8, payload @16
// (string ptr/len, s64, f64 or bool).
func loadArgs(p, n uint32) []arg {
	args := make([]arg, n)
	for i := range n {
		at := p + i*24
		v := value{kind: valueKind(load8(at + 8))}
		switch v.kind {
		case valueText, valueJSON:
			v.text = loadString(at + 16)
		case valueInteger:
			v.integer = int64(load64(at + 16))
		case valueNumber:
			v.number = *(*float64)(unsafe.Pointer(uintptr(at + 16)))
		case valueBoolean:
			v.boolean = load8(at+16) != 0
		}
		args[i] = arg{name: loadString(at), value: v}
	}
	return args
}

// result<output, tool-error> (24 bytes): case byte @0, payload @4. output: text@0 data@8
// (option<string>); tool-error: case byte @0, message @4.
func storeResult(ret uint32, out Output, fail *Error) {
	if fail == nil {
		storeString(ret+4, out.Text)
		storeOptString(ret+12, string(out.Data), len(out.Data) > 0)
		return
	}
	store8(ret, 1)
	var kind uint8
	switch fail.Kind {
	case KindUnknownTool:
		kind = 0
	case KindInvalidArgs:
		kind = 1
	case KindNotConfigured:
		kind = 2
	default:
		kind = 3
	}
	store8(ret+4, kind)
	storeString(ret+8, fail.Message)
}

func loadResult(ret uint32) (Output, *Error) {
	if load8(ret) == 0 {
		out := Output{Text: loadString(ret + 4)}
		if data, ok := loadOptString(ret + 12); ok {
			out.Data = []byte(data)
		}
		return out, nil
	}
	kinds := [...]ErrorKind{KindUnknownTool, KindInvalidArgs, KindNotConfigured, KindFailed}
	kind := KindFailed
	if k := load8(ret + 4); int(k) < len(kinds) {
		kind = kinds[k]
	}
	return Output{}, &Error{Kind: kind, Message: loadString(ret + 8)}
}

//go:wasmexport skill-engine:skill/guest@0.3.0#execute
func exportExecute(toolPtr, toolLen, argsPtr, argsLen uint32) uint32 {
	tool := string(mem(toolPtr, toolLen))
	args := loadArgs(argsPtr, argsLen)
	release(0) // copied out: the host's buffers can go
	gcOff := gcOn()
	out, fail := execute(tool, args)
	gcOff()
	ret := alloc(24, 4)
	storeResult(ret, out, fail)
	return ret
}

//go:wasmexport cabi_post_skill-engine:skill/guest@0.3.0#execute
func postExecute(uint32) { release(0) }

// list<tuple<string, string>> (16 bytes each) → result<_, string> (case @0, message @4).
//
//go:wasmexport skill-engine:skill/guest@0.3.0#validate-config
func exportValidateConfig(p, n uint32) uint32 {
	pairs := make([][2]string, n)
	for i := range n {
		pairs[i] = [2]string{loadString(p + i*16), loadString(p + i*16 + 8)}
	}
	release(0)
	ret := alloc(12, 4)
	if err := validateConfig(pairs); err != nil {
		store8(ret, 1)
		storeString(ret+4, err.Error())
	}
	return ret
}

//go:wasmexport cabi_post_skill-engine:skill/guest@0.3.0#validate-config
func postValidateConfig(uint32) { release(0) }

//go:wasmimport skill-engine:skill/host@0.3.0 config-get
func hostConfigGet(keyPtr, keyLen, ret uint32)

//go:wasmimport skill-engine:skill/host@0.3.0 log
func hostLog(level, messagePtr, messageLen uint32)

//go:wasmimport skill-engine:skill/host@0.3.0 progress
func hostProgress(hasPercent, percent, messagePtr, messageLen uint32)

//go:wasmimport skill-engine:skill/host@0.3.0 call-tool
func hostCallTool(skillPtr, skillLen, toolPtr, toolLen, argsPtr, argsLen, ret uint32)

type componentHost struct{}

var currentHost host = componentHost{}

func (componentHost) configGet(key string) (string, bool) {
	mark := len(keep)
	defer release(mark)
	kp, kn := lowerString(key)
	ret := alloc(12, 4)
	gcBack := gcOffDuring()
	hostConfigGet(kp, kn, ret)
	gcBack()
	return loadOptString(ret)
}

func (componentHost) log(level LogLevel, message string) {
	mark := len(keep)
	defer release(mark)
	p, n := lowerString(message)
	hostLog(uint32(level), p, n)
}

func (componentHost) progress(percent int, message string) {
	mark := len(keep)
	defer release(mark)
	p, n := lowerString(message)
	if percent < 0 {
		hostProgress(0, 0, p, n)
	} else {
		hostProgress(1, uint32(percent), p, n)
	}
}

func (componentHost) callTool(skill, tool string, args []arg) (Output, *Error) {
	mark := len(keep)
	defer release(mark)
	sp, sn := lowerString(skill)
	tp, tn := lowerString(tool)
	list := alloc(uint32(len(args))*24, 8)
	for i, a := range args {
		at := list + uint32(i)*24
		storeString(at, a.name)
		store8(at+8, uint8(a.value.kind))
		switch a.value.kind {
		case valueText, valueJSON:
			storeString(at+16, a.value.text)
		case valueInteger:
			*(*int64)(unsafe.Pointer(uintptr(at + 16))) = a.value.integer
		case valueNumber:
			*(*float64)(unsafe.Pointer(uintptr(at + 16))) = a.value.number
		case valueBoolean:
			if a.value.boolean {
				store8(at+16, 1)
			}
		}
	}
	ret := alloc(24, 4)
	gcBack := gcOffDuring()
	hostCallTool(sp, sn, tp, tn, list, uint32(len(args)), ret)
	gcBack()
	return loadResult(ret)
}
