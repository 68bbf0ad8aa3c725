//go:build wasip1

// Package cabi holds the canonical ABI's memory side for the SDK's hand-written bindings (the
// contract in package skill, wasi:http in package skillhttp): buffers handed to or written by
// the host, and loads and stores at canonical-ABI offsets.
//
// Memory: everything handed to the host lives in Go byte slices held in `keep`, so the
// garbage collector (which does not move heap objects) keeps them until the host is done:
// the post-return function of an export, or the end of an import call (Begin).
package cabi

import (
	"runtime/debug"
	"sync"
	"unsafe"
)

// The garbage collector is off whenever the host may call cabi_realloc: a collection reads
// the clock through WASI, and an instance may not call out while the host is lowering values
// into it (wasmtime traps: "cannot leave component instance"). It is on while a tool runs,
// except during host calls (Begin).
func init() { debug.SetGCPercent(-1) }

var (
	toolRunning bool // between GCOn and its returned function
	inHostCalls int  // goroutines in Begin's region or waiting to enter it
)

// GCOn turns the collector on for a tool's own work; the returned function turns it off.
func GCOn() func() {
	toolRunning = true
	if inHostCalls == 0 { // a goroutine left waiting for a host call keeps it off
		debug.SetGCPercent(100)
	}
	return func() {
		toolRunning = false
		debug.SetGCPercent(-1)
	}
}

// Buffers the host may still read or has just written; see the package comment.
var keep [][]byte

// The landing buffer: memory set aside, before an import call, for what the host writes back
// (Land). While the host lowers a result into the instance, the instance may not call out,
// and a Go allocation can: growing the heap runs the runtime's scavenger, which reads the
// clock through WASI (wasmtime traps: "cannot leave component instance"). Turning the
// collector off does not stop that, so results land in memory the caller allocated, in Go,
// before the call. Only what does not fit is allocated there and then.
var landing []byte

// Land makes cabi_realloc serve from buf (of a size the caller expects the result to fit)
// until the returned function is called. The caller copies the result out before the next
// call reuses buf.
func Land(buf []byte) (done func()) {
	landing = buf
	return func() { landing = nil }
}

// The landing buffer of calls whose results have no known size (config values, call-tool
// results, a response's header fields, an export's arguments). It grows, after the call, to
// what did not fit, so a result that size lands next time.
var (
	scratch  = make([]byte, 64<<10)
	overflow uint32
)

// ReceiveResults prepares for an import call (inside Begin's region) that returns values:
// they land in the scratch buffer (see Land). done stops that, and grows the buffer if needed.
func ReceiveResults() (done func()) {
	landing, overflow = scratch, 0
	return func() {
		landing = nil
		GrowScratch()
	}
}

// GrowScratch makes room for what the last results did not fit; call it where Go may
// allocate (not while the host is lowering).
func GrowScratch() {
	if overflow > 0 {
		scratch = make([]byte, len(scratch)+int(overflow))
		overflow = 0
	}
}

// ArmScratch lands the next export's arguments in the scratch buffer: call it when an
// export is done (its post-return) and at start.
func ArmScratch() { landing, overflow = scratch, 0 }

// Disarm stops landing: call it when an export has copied its arguments out.
func Disarm() { landing = nil }

func init() { ArmScratch() }

// Realloc is cabi_realloc: from the landing buffer when it has room, else a kept buffer.
func Realloc(old, oldSize, align, newSize uint32) uint32 {
	var p uint32
	if len(landing) > 0 && newSize > 0 {
		base := uint32(uintptr(unsafe.Pointer(&landing[0])))
		at := (base + align - 1) &^ (align - 1)
		if end := at - base + newSize; end <= uint32(len(landing)) {
			landing = landing[end:]
			p = at
		}
	}
	if p == 0 {
		if landing != nil {
			overflow += newSize + align
		}
		p = Alloc(newSize, align)
	}
	if old != 0 {
		copy(Mem(p, min(oldSize, newSize)), Mem(old, min(oldSize, newSize)))
	}
	return p
}

// Alloc returns the address of size zeroed bytes aligned to align, kept until Release.
func Alloc(size, align uint32) uint32 {
	if size == 0 {
		return align
	}
	buf := make([]byte, size+align)
	keep = append(keep, buf)
	p := uint32(uintptr(unsafe.Pointer(&buf[0])))
	return (p + align - 1) &^ (align - 1)
}

// One host call at a time: goroutines share `keep` and the landing buffers.
var hostCalls sync.Mutex

// Begin starts a host call: the collector off, the call's buffers from here on. end releases
// the buffers and turns the collector back on for the tool, once no goroutine is in or
// waiting for a host call. Regions do not nest.
//
// A goroutine parks (if at all) before it holds anything: turning the collector off waits
// for a running cycle to end, and the lock may be taken. Inside, with no cycle running,
// nothing parks; so no goroutine is ever inside a region when a tool returns and its
// post-return releases every buffer.
//
//	defer cabi.Begin()()
func Begin() (end func()) {
	inHostCalls++
	debug.SetGCPercent(-1)
	hostCalls.Lock()
	mark := len(keep)
	return func() {
		Release(mark)
		hostCalls.Unlock()
		inHostCalls--
		if inHostCalls == 0 && toolRunning {
			debug.SetGCPercent(100)
		}
	}
}

// Release lets the garbage collector have every buffer allocated since mark (a length of
// keep).
func Release(mark int) {
	clear(keep[mark:])
	keep = keep[:mark]
}

// Mem is the n bytes at p.
func Mem(p, n uint32) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), n)
}

func Load8(p uint32) uint8   { return *(*uint8)(unsafe.Pointer(uintptr(p))) }
func Load32(p uint32) uint32 { return *(*uint32)(unsafe.Pointer(uintptr(p))) }
func Load64(p uint32) uint64 { return *(*uint64)(unsafe.Pointer(uintptr(p))) }

func Store8(p uint32, v uint8)   { *(*uint8)(unsafe.Pointer(uintptr(p))) = v }
func Store32(p uint32, v uint32) { *(*uint32)(unsafe.Pointer(uintptr(p))) = v }

// LoadString copies a string (ptr, len at p) out of the host's buffer.
func LoadString(p uint32) string { return string(Mem(Load32(p), Load32(p+4))) }

// LoadBytes copies a list<u8> (ptr, len at p) out of the host's buffer.
func LoadBytes(p uint32) []byte { return append([]byte(nil), Mem(Load32(p), Load32(p+4))...) }

// LoadOptString reads option<string> (discriminant byte, string at +4).
func LoadOptString(p uint32) (string, bool) {
	if Load8(p) == 0 {
		return "", false
	}
	return LoadString(p + 4), true
}

// LowerBytes copies b into a kept buffer.
func LowerBytes(b []byte) (uint32, uint32) {
	p := Alloc(uint32(len(b)), 1)
	copy(Mem(p, uint32(len(b))), b)
	return p, uint32(len(b))
}

// LowerString copies s into a kept buffer.
func LowerString(s string) (uint32, uint32) {
	p := Alloc(uint32(len(s)), 1)
	copy(Mem(p, uint32(len(s))), s)
	return p, uint32(len(s))
}

func StoreString(at uint32, s string) {
	p, n := LowerString(s)
	Store32(at, p)
	Store32(at+4, n)
}

func StoreOptString(at uint32, s string, present bool) {
	if !present {
		return // the buffer is zeroed: discriminant 0
	}
	Store8(at, 1)
	StoreString(at+4, s)
}

// StoreList allocates n elements of size bytes (align 4) and stores (ptr, len) at `at`.
func StoreList(at uint32, n int, size uint32) uint32 {
	p := Alloc(uint32(n)*size, 4)
	Store32(at, p)
	Store32(at+4, uint32(n))
	return p
}
