//go:build wasip1

package skill

import (
	"os"
	"strings"
	"unsafe"
)

// The Go runtime reads the environment once, when it starts; `skill build` snapshots the
// started runtime (Wizer), so that copy is the build's (empty) environment. Each call reads
// the sandbox's own (the variables the user granted) again before the tool runs.

//go:wasmimport wasi_snapshot_preview1 environ_sizes_get
func environSizesGet(count, size unsafe.Pointer) uint32

//go:wasmimport wasi_snapshot_preview1 environ_get
func environGet(pointers, buf unsafe.Pointer) uint32

func refreshEnvironment() {
	var count, size uint32
	if environSizesGet(unsafe.Pointer(&count), unsafe.Pointer(&size)) != 0 {
		return
	}
	os.Clearenv()
	if count == 0 {
		return
	}
	pointers := make([]uint32, count)
	buf := make([]byte, size)
	if environGet(unsafe.Pointer(&pointers[0]), unsafe.Pointer(&buf[0])) != 0 {
		return
	}
	for _, entry := range strings.Split(strings.TrimRight(string(buf), "\x00"), "\x00") {
		if name, val, ok := strings.Cut(entry, "="); ok {
			os.Setenv(name, val)
		}
	}
}
