//go:build wasip1

// The component side: the contract's guest functions as wasm exports and its host functions
// as wasm imports, under the canonical ABI of skill-engine:skill@0.3.0 (wit/skill.wit).
// wit-bindgen has no Go generator that runs without the Go module proxy, so the lifting and
// lowering of the contract's types is written out here; the offsets are the canonical ABI's
// layouts of those records and variants (each noted where it is used). Memory and the
// garbage collector: package internal/cabi.

package skill

import (
	"unsafe"

	"skill-engine/sdk-go/internal/cabi"
)

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
	return cabi.Realloc(old, oldSize, align, newSize)
}

// afterExport (every post-return) lets the returned buffers go and lands the next export's
// arguments in the scratch buffer (cabi.ArmScratch).
func afterExport() {
	cabi.Release(0)
	cabi.ArmScratch()
}

// argumentsCopied: an export has copied its arguments out of the host's buffers.
func argumentsCopied() {
	cabi.Disarm()
	cabi.Release(0)
	cabi.GrowScratch()
}

func storeOptBool(at uint32, b *bool) {
	if b != nil {
		cabi.Store8(at, 1)
		if *b {
			cabi.Store8(at+1, 1)
		}
	}
}

// skill-info: name@0 version@8 description@16 author@24 license@36 repository@48 (60 bytes).
//
//go:wasmexport skill-engine:skill/guest@0.3.0#info
func exportInfo() uint32 {
	ret := cabi.Alloc(60, 4)
	cabi.StoreString(ret, info.Name)
	cabi.StoreString(ret+8, info.Version)
	cabi.StoreString(ret+16, info.Description)
	cabi.StoreOptString(ret+24, info.Author, info.Author != "")
	cabi.StoreOptString(ret+36, info.License, info.License != "")
	cabi.StoreOptString(ret+48, info.Repository, info.Repository != "")
	return ret
}

//go:wasmexport cabi_post_skill-engine:skill/guest@0.3.0#info
func postInfo(uint32) { afterExport() }

// list<tool>; tool: name@0 description@8 params@16 (24 bytes); param: name@0
// description@8 kind@16 required@17 default-value@20 choices@32 (40 bytes).
//
//go:wasmexport skill-engine:skill/guest@0.3.0#tools
func exportTools() uint32 {
	defs := Tools()
	ret := cabi.Alloc(8, 4)
	tools := cabi.StoreList(ret, len(defs), 24)
	for i, d := range defs {
		t := tools + uint32(i)*24
		cabi.StoreString(t, d.Name)
		cabi.StoreString(t+8, d.Description)
		params := cabi.StoreList(t+16, len(d.Params), 40)
		for j, p := range d.Params {
			at := params + uint32(j)*40
			cabi.StoreString(at, p.Name)
			cabi.StoreString(at+8, p.Description)
			cabi.Store8(at+16, uint8(p.Kind))
			if p.Required {
				cabi.Store8(at+17, 1)
			}
			cabi.StoreOptString(at+20, p.Default, p.Default != "")
			choices := cabi.StoreList(at+32, len(p.Choices), 8)
			for k, c := range p.Choices {
				cabi.StoreString(choices+uint32(k)*8, c)
			}
		}
	}
	return ret
}

//go:wasmexport cabi_post_skill-engine:skill/guest@0.3.0#tools
func postTools(uint32) { afterExport() }

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
	ret := cabi.Alloc(8, 4)
	list := cabi.StoreList(ret, len(described), 40)
	for i, d := range described {
		at := list + uint32(i)*40
		cabi.StoreString(at, d.Name)
		cabi.StoreOptString(at+8, d.Title, d.Title != "")
		storeOptBool(at+20, d.ReadOnly)
		storeOptBool(at+22, d.Destructive)
		storeOptBool(at+24, d.Idempotent)
		storeOptBool(at+26, d.OpenWorld)
		cabi.StoreOptString(at+28, d.OutputSchema, d.OutputSchema != "")
	}
	return ret
}

//go:wasmexport cabi_post_skill-engine:skill/guest@0.3.0#describe-tools
func postDescribeTools(uint32) { afterExport() }

// Arguments: list<arg>; arg: name@0 value@8 (24 bytes); value: case byte @8, payload @16
// (string ptr/len, s64, f64 or bool).
func loadArgs(p, n uint32) []arg {
	args := make([]arg, n)
	for i := range n {
		at := p + i*24
		v := value{kind: valueKind(cabi.Load8(at + 8))}
		switch v.kind {
		case valueText, valueJSON:
			v.text = cabi.LoadString(at + 16)
		case valueInteger:
			v.integer = int64(cabi.Load64(at + 16))
		case valueNumber:
			v.number = *(*float64)(unsafe.Pointer(uintptr(at + 16)))
		case valueBoolean:
			v.boolean = cabi.Load8(at+16) != 0
		}
		args[i] = arg{name: cabi.LoadString(at), value: v}
	}
	return args
}

// result<output, tool-error> (24 bytes): case byte @0, payload @4. output: text@0 data@8
// (option<string>); tool-error: case byte @0, message @4.
func storeResult(ret uint32, out Output, fail *Error) {
	if fail == nil {
		cabi.StoreString(ret+4, out.Text)
		cabi.StoreOptString(ret+12, string(out.Data), len(out.Data) > 0)
		return
	}
	cabi.Store8(ret, 1)
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
	cabi.Store8(ret+4, kind)
	cabi.StoreString(ret+8, fail.Message)
}

func loadResult(ret uint32) (Output, *Error) {
	if cabi.Load8(ret) == 0 {
		out := Output{Text: cabi.LoadString(ret + 4)}
		if data, ok := cabi.LoadOptString(ret + 12); ok {
			out.Data = []byte(data)
		}
		return out, nil
	}
	kinds := [...]ErrorKind{KindUnknownTool, KindInvalidArgs, KindNotConfigured, KindFailed}
	kind := KindFailed
	if k := cabi.Load8(ret + 4); int(k) < len(kinds) {
		kind = kinds[k]
	}
	return Output{}, &Error{Kind: kind, Message: cabi.LoadString(ret + 8)}
}

//go:wasmexport skill-engine:skill/guest@0.3.0#execute
func exportExecute(toolPtr, toolLen, argsPtr, argsLen uint32) uint32 {
	tool := string(cabi.Mem(toolPtr, toolLen))
	args := loadArgs(argsPtr, argsLen)
	argumentsCopied()
	gcOff := cabi.GCOn()
	out, fail := execute(tool, args)
	gcOff()
	ret := cabi.Alloc(24, 4)
	storeResult(ret, out, fail)
	return ret
}

//go:wasmexport cabi_post_skill-engine:skill/guest@0.3.0#execute
func postExecute(uint32) { afterExport() }

// list<tuple<string, string>> (16 bytes each) → result<_, string> (case @0, message @4).
//
//go:wasmexport skill-engine:skill/guest@0.3.0#validate-config
func exportValidateConfig(p, n uint32) uint32 {
	pairs := make([][2]string, n)
	for i := range n {
		pairs[i] = [2]string{cabi.LoadString(p + i*16), cabi.LoadString(p + i*16 + 8)}
	}
	argumentsCopied()
	ret := cabi.Alloc(12, 4)
	if err := validateConfig(pairs); err != nil {
		cabi.Store8(ret, 1)
		cabi.StoreString(ret+4, err.Error())
	}
	return ret
}

//go:wasmexport cabi_post_skill-engine:skill/guest@0.3.0#validate-config
func postValidateConfig(uint32) { afterExport() }

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
	defer cabi.Begin()()
	kp, kn := cabi.LowerString(key)
	ret := cabi.Alloc(12, 4)
	received := cabi.ReceiveResults()
	hostConfigGet(kp, kn, ret)
	received()
	return cabi.LoadOptString(ret)
}

func (componentHost) log(level LogLevel, message string) {
	defer cabi.Begin()()
	p, n := cabi.LowerString(message)
	hostLog(uint32(level), p, n)
}

func (componentHost) progress(percent int, message string) {
	defer cabi.Begin()()
	p, n := cabi.LowerString(message)
	if percent < 0 {
		hostProgress(0, 0, p, n)
	} else {
		hostProgress(1, uint32(percent), p, n)
	}
}

func (componentHost) callTool(skill, tool string, args []arg) (Output, *Error) {
	defer cabi.Begin()()
	sp, sn := cabi.LowerString(skill)
	tp, tn := cabi.LowerString(tool)
	list := cabi.Alloc(uint32(len(args))*24, 8)
	for i, a := range args {
		at := list + uint32(i)*24
		cabi.StoreString(at, a.name)
		cabi.Store8(at+8, uint8(a.value.kind))
		switch a.value.kind {
		case valueText, valueJSON:
			cabi.StoreString(at+16, a.value.text)
		case valueInteger:
			*(*int64)(unsafe.Pointer(uintptr(at + 16))) = a.value.integer
		case valueNumber:
			*(*float64)(unsafe.Pointer(uintptr(at + 16))) = a.value.number
		case valueBoolean:
			if a.value.boolean {
				cabi.Store8(at+16, 1)
			}
		}
	}
	ret := cabi.Alloc(24, 4)
	received := cabi.ReceiveResults()
	hostCallTool(sp, sn, tp, tn, list, uint32(len(args)), ret)
	received()
	return loadResult(ret)
}
