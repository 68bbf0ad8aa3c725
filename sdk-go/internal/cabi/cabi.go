//go:build wasip1

// Package cabi holds the canonical ABI's memory side for the SDK's hand-written bindings (the
// contract in package skill, wasi:http in package skillhttp): buffers handed to or written by
// the host, and loads and stores at canonical-ABI offsets.
//
// Memory: everything handed to the host lives in Go byte slices held in `keep`, so the
// garbage collector (which does not move heap objects) keeps them until the host is done:
// the post-return function of an export, or the end of an import call (Mark, then Release).
package cabi

import (
	"runtime/debug"
	"unsafe"
)

// The garbage collector is off whenever the host may call cabi_realloc: a collection reads
// the clock through WASI, and an instance may not call out while the host is lowering values
// into it (wasmtime traps: "cannot leave component instance"). It is on while a tool runs,
// except around the host calls that return values (GCOffDuring).
func init() { debug.SetGCPercent(-1) }

// GCOn turns the collector on for a tool's own work; the returned function turns it off.
func GCOn() func() {
	debug.SetGCPercent(100)
	return func() { debug.SetGCPercent(-1) }
}

// GCOffDuring turns the collector off around a host call that returns values: it returns
// the function that restores what was before (off outside tools, on inside).
func GCOffDuring() func() {
	before := debug.SetGCPercent(-1)
	return func() { debug.SetGCPercent(before) }
}

// Buffers the host may still read or has just written; see the package comment.
var keep [][]byte

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

// Mark is where buffers allocated from now on start, for Release.
func Mark() int { return len(keep) }

// Release lets the garbage collector have every buffer allocated since mark.
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
func Load16(p uint32) uint16 { return *(*uint16)(unsafe.Pointer(uintptr(p))) }
func Load32(p uint32) uint32 { return *(*uint32)(unsafe.Pointer(uintptr(p))) }
func Load64(p uint32) uint64 { return *(*uint64)(unsafe.Pointer(uintptr(p))) }

func Store8(p uint32, v uint8)   { *(*uint8)(unsafe.Pointer(uintptr(p))) = v }
func Store32(p uint32, v uint32) { *(*uint32)(unsafe.Pointer(uintptr(p))) = v }
func Store64(p uint32, v uint64) { *(*uint64)(unsafe.Pointer(uintptr(p))) = v }

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

func StoreBytes(at uint32, b []byte) {
	p, n := LowerBytes(b)
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
