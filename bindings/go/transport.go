package icms

// #include "shim.h"
import "C"

import (
	"context"
	"fmt"
	"runtime/cgo"
	"strings"
	"unsafe"
)

//export icmsGoDeleteHandle
func icmsGoDeleteHandle(h C.uintptr_t) { cgo.Handle(h).Delete() }

// icmsGoPost is the Go side of the transport shim: it runs the Transport
// behind handle with the context of the call on this thread. The answer is
// copied into memory from icms_transport_alloc, which the library frees.
//
//export icmsGoPost
func icmsGoPost(handle C.uintptr_t, url *C.char, headers **C.char, headerCount C.int,
	body unsafe.Pointer, bodyLen C.int, maxLen C.longlong,
	status *C.int, answer **C.uint8_t, answerLen *C.size_t) (rc C.int) {
	defer func() {
		if p := recover(); p != nil {
			C.icms_go_set_pending(C.uintptr_t(cgo.NewHandle(fmt.Errorf("transport panicked: %v", p))))
			rc = C.ICMS_EUSER
		}
	}()
	t := cgo.Handle(handle).Value().(Transport)
	ctx := context.Background()
	if h := C.icms_go_ctx(); h != 0 {
		ctx = cgo.Handle(h).Value().(context.Context)
	}
	hs := make([]string, int(headerCount))
	if headerCount > 0 {
		for i, p := range unsafe.Slice(headers, int(headerCount)) {
			hs[i] = C.GoString(p)
		}
	}
	var in []byte
	if bodyLen > 0 {
		in = C.GoBytes(body, bodyLen)
	}
	code, out, err := t.Post(ctx, C.GoString(url), hs, in, int64(maxLen))
	if err != nil {
		C.icms_go_set_pending(C.uintptr_t(cgo.NewHandle(err)))
		return C.ICMS_EUSER
	}
	if len(out) > 0 {
		p := C.icms_transport_alloc(C.size_t(len(out)))
		if p == nil {
			return C.ICMS_ENOMEM
		}
		copy(unsafe.Slice((*byte)(p), len(out)), out)
		*answer = (*C.uint8_t)(p)
	}
	*answerLen = C.size_t(len(out))
	*status = C.int(code)
	return C.ICMS_OK
}

func stringReader(s string) *strings.Reader { return strings.NewReader(s) }
