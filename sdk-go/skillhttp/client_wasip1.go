//go:build wasip1

// wasi:http 0.2 (the version wasmtime's own WIT carries; the build embeds the same files),
// lowered by hand like the contract in package skill. Layouts are noted where they are used;
// error-code has 8-byte alignment (its option<u64> cases), so a result or option holding it
// has its payload at +8.

package skillhttp

import (
	"context"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"skill-engine/sdk-go/internal/cabi"
)

//go:wasmimport wasi:http/types@0.2.12 [static]fields.from-list
func fieldsFromList(entries, n, ret uint32)

//go:wasmimport wasi:http/types@0.2.12 [method]fields.entries
func fieldsEntries(fields, ret uint32)

//go:wasmimport wasi:http/types@0.2.12 [resource-drop]fields
func dropFields(fields uint32)

//go:wasmimport wasi:http/types@0.2.12 [constructor]outgoing-request
func newOutgoingRequest(headers uint32) uint32

//go:wasmimport wasi:http/types@0.2.12 [method]outgoing-request.set-method
func setMethod(req, method, ptr, n uint32) uint32

//go:wasmimport wasi:http/types@0.2.12 [method]outgoing-request.set-scheme
func setScheme(req, some, scheme, ptr, n uint32) uint32

//go:wasmimport wasi:http/types@0.2.12 [method]outgoing-request.set-authority
func setAuthority(req, some, ptr, n uint32) uint32

//go:wasmimport wasi:http/types@0.2.12 [method]outgoing-request.set-path-with-query
func setPathWithQuery(req, some, ptr, n uint32) uint32

//go:wasmimport wasi:http/types@0.2.12 [method]outgoing-request.body
func outgoingRequestBody(req, ret uint32)

//go:wasmimport wasi:http/types@0.2.12 [resource-drop]outgoing-request
func dropOutgoingRequest(req uint32)

//go:wasmimport wasi:http/types@0.2.12 [method]outgoing-body.write
func outgoingBodyWrite(body, ret uint32)

//go:wasmimport wasi:http/types@0.2.12 [static]outgoing-body.finish
func outgoingBodyFinish(body, someTrailers, trailers, ret uint32)

//go:wasmimport wasi:http/types@0.2.12 [resource-drop]outgoing-body
func dropOutgoingBody(body uint32)

//go:wasmimport wasi:http/types@0.2.12 [constructor]request-options
func newRequestOptions() uint32

//go:wasmimport wasi:http/types@0.2.12 [method]request-options.set-connect-timeout
func setConnectTimeout(options, some uint32, nanos uint64) uint32

//go:wasmimport wasi:http/types@0.2.12 [method]request-options.set-first-byte-timeout
func setFirstByteTimeout(options, some uint32, nanos uint64) uint32

//go:wasmimport wasi:http/types@0.2.12 [method]request-options.set-between-bytes-timeout
func setBetweenBytesTimeout(options, some uint32, nanos uint64) uint32

//go:wasmimport wasi:http/outgoing-handler@0.2.12 handle
func handle(req, someOptions, options, ret uint32)

//go:wasmimport wasi:http/types@0.2.12 [method]future-incoming-response.subscribe
func subscribe(future uint32) uint32

//go:wasmimport wasi:http/types@0.2.12 [method]future-incoming-response.get
func futureGet(future, ret uint32)

//go:wasmimport wasi:http/types@0.2.12 [resource-drop]future-incoming-response
func dropFuture(future uint32)

//go:wasmimport wasi:http/types@0.2.12 [method]incoming-response.status
func responseStatus(resp uint32) uint32

//go:wasmimport wasi:http/types@0.2.12 [method]incoming-response.headers
func responseHeaders(resp uint32) uint32

//go:wasmimport wasi:http/types@0.2.12 [method]incoming-response.consume
func responseConsume(resp, ret uint32)

//go:wasmimport wasi:http/types@0.2.12 [resource-drop]incoming-response
func dropIncomingResponse(resp uint32)

//go:wasmimport wasi:http/types@0.2.12 [method]incoming-body.stream
func incomingBodyStream(body, ret uint32)

//go:wasmimport wasi:http/types@0.2.12 [static]incoming-body.finish
func incomingBodyFinish(body uint32) uint32

//go:wasmimport wasi:http/types@0.2.12 [resource-drop]future-trailers
func dropFutureTrailers(trailers uint32)

//go:wasmimport wasi:io/poll@0.2.12 [method]pollable.block
func block(pollable uint32)

//go:wasmimport wasi:io/poll@0.2.12 [resource-drop]pollable
func dropPollable(pollable uint32)

//go:wasmimport wasi:io/streams@0.2.12 [method]output-stream.blocking-write-and-flush
func blockingWriteAndFlush(stream, ptr, n, ret uint32)

//go:wasmimport wasi:io/streams@0.2.12 [resource-drop]output-stream
func dropOutputStream(stream uint32)

//go:wasmimport wasi:io/streams@0.2.12 [method]input-stream.blocking-read
func blockingRead(stream uint32, n uint64, ret uint32)

//go:wasmimport wasi:io/streams@0.2.12 [resource-drop]input-stream
func dropInputStream(stream uint32)

//go:wasmimport wasi:io/error@0.2.12 [method]error.to-debug-string
func errorToDebugString(err, ret uint32)

//go:wasmimport wasi:io/error@0.2.12 [resource-drop]error
func dropIOError(err uint32)

// The error-code cases, in the order of their discriminants.
var errorCodes = [...]string{
	"DNS-timeout", "DNS-error", "destination-not-found", "destination-unavailable",
	"destination-IP-prohibited", "destination-IP-unroutable", "connection-refused",
	"connection-terminated", "connection-timeout", "connection-read-timeout",
	"connection-write-timeout", "connection-limit-reached", "TLS-protocol-error",
	"TLS-certificate-error", "TLS-alert-received", "HTTP-request-denied",
	"HTTP-request-length-required", "HTTP-request-body-size", "HTTP-request-method-invalid",
	"HTTP-request-URI-invalid", "HTTP-request-URI-too-long", "HTTP-request-header-section-size",
	"HTTP-request-header-size", "HTTP-request-trailer-section-size", "HTTP-request-trailer-size",
	"HTTP-response-incomplete", "HTTP-response-header-section-size", "HTTP-response-header-size",
	"HTTP-response-body-size", "HTTP-response-trailer-section-size", "HTTP-response-trailer-size",
	"HTTP-response-transfer-coding", "HTTP-response-content-coding", "HTTP-response-timeout",
	"HTTP-upgrade-failed", "HTTP-protocol-error", "loop-detected", "configuration-error",
	"internal-error",
}

// loadErrorCode reads an error-code at p: case byte @0, payload @8. The detail, where a case
// carries text: DNS-error's rcode, TLS-alert-received's message (option<string> @+4 after an
// option<u8>), the codings and internal-error (option<string>).
func loadErrorCode(p uint32) *Error {
	disc := int(cabi.Load8(p))
	if disc >= len(errorCodes) {
		return &Error{Code: "unknown error-code " + strconv.Itoa(disc)}
	}
	e := &Error{Code: errorCodes[disc]}
	switch e.Code {
	case "DNS-error", "HTTP-response-transfer-coding", "HTTP-response-content-coding", "internal-error":
		e.Detail, _ = cabi.LoadOptString(p + 8)
	case "TLS-alert-received":
		e.Detail, _ = cabi.LoadOptString(p + 12)
	}
	return e
}

func roundTrip(method string, target *url.URL, req *Request) (*Response, error) {
	if err := contextErr(req); err != nil {
		return nil, err // nothing is sent once the caller has given up
	}
	request, err := outgoingRequest(method, target, req)
	if err != nil {
		return nil, err
	}
	var body uint32
	if req.Body != nil {
		if body, err = takeHandle(outgoingRequestBody, request, "the request body"); err != nil {
			dropOutgoingRequest(request)
			return nil, err
		}
	}
	future, err := send(request, req)
	if err != nil {
		if req.Body != nil {
			dropOutgoingBody(body)
		}
		return nil, err
	}
	var writeErr error
	if req.Body != nil {
		writeErr = writeBody(body, req.Body)
	}
	// After a failed write, the response's own error says why (a refused host, say).
	response, err := await(future)
	if err != nil {
		return nil, err
	}
	if writeErr != nil {
		dropIncomingResponse(response)
		return nil, writeErr
	}
	return incomingResponse(response, req)
}

// outgoingRequest makes the request resource: headers, method, scheme, authority, path.
func outgoingRequest(method string, target *url.URL, req *Request) (uint32, error) {
	defer cabi.Begin()()

	entries := headerEntries(req)
	// list<tuple<string, list<u8>>>: 16 bytes each. result<fields, header-error>: case @0,
	// fields or the header-error case @4.
	list := cabi.Alloc(uint32(len(entries))*16, 4)
	for i, e := range entries {
		cabi.StoreString(list+uint32(i)*16, strings.ToLower(e[0]))
		cabi.StoreString(list+uint32(i)*16+8, e[1])
	}
	ret := cabi.Alloc(8, 4)
	fieldsFromList(list, uint32(len(entries)), ret)
	if cabi.Load8(ret) != 0 {
		reasons := [...]string{"invalid syntax", "forbidden", "immutable"}
		reason := "rejected"
		if k := cabi.Load8(ret + 4); int(k) < len(reasons) {
			reason = reasons[k]
		}
		return 0, &Error{Code: "HTTP-request-header-invalid", Detail: "a header was " + reason}
	}
	request := newOutgoingRequest(cabi.Load32(ret + 4))

	// method: get, head, post, put, delete, connect, options, trace, patch, other(string).
	methods := [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
	disc, mp, mn := uint32(len(methods)), uint32(0), uint32(0)
	for i, m := range methods {
		if m == method {
			disc = uint32(i)
		}
	}
	if disc == uint32(len(methods)) {
		mp, mn = cabi.LowerString(method)
	}
	// scheme: HTTP, HTTPS, other(string).
	var sdisc, sp, sn uint32
	switch target.Scheme {
	case "http":
		sdisc = 0
	case "https":
		sdisc = 1
	default:
		sdisc = 2
		sp, sn = cabi.LowerString(target.Scheme)
	}
	ap, an := cabi.LowerString(target.Host)
	pp, pn := cabi.LowerString(target.RequestURI())
	refused := ""
	switch {
	case setMethod(request, disc, mp, mn) != 0:
		refused = "method " + method
	case setScheme(request, 1, sdisc, sp, sn) != 0:
		refused = "scheme " + target.Scheme
	case setAuthority(request, 1, ap, an) != 0:
		refused = "host " + target.Host
	case setPathWithQuery(request, 1, pp, pn) != 0:
		refused = "path " + target.RequestURI()
	}
	if refused != "" {
		dropOutgoingRequest(request)
		return 0, &Error{Code: "HTTP-request-URI-invalid", Detail: "the host refused the " + refused}
	}
	return request, nil
}

// send hands the request to the host: result<future-incoming-response, error-code>, the
// future or the error @8.
func send(request uint32, req *Request) (uint32, error) {
	defer cabi.Begin()()
	var someOptions, options uint32
	if deadline, ok := contextOf(req).Deadline(); ok {
		left := max(time.Until(deadline), time.Millisecond)
		options, someOptions = newRequestOptions(), 1
		setConnectTimeout(options, 1, uint64(left))
		setFirstByteTimeout(options, 1, uint64(left))
		setBetweenBytesTimeout(options, 1, uint64(left))
	}
	ret := cabi.Alloc(40, 8)
	received := cabi.ReceiveResults()
	handle(request, someOptions, options, ret)
	received()
	if cabi.Load8(ret) != 0 {
		return 0, loadErrorCode(ret + 8)
	}
	return cabi.Load32(ret + 8), nil
}

func contextOf(req *Request) context.Context {
	if req.Context == nil {
		return context.Background()
	}
	return req.Context
}

// contextErr: the request's context is done. The deadline is compared here too: a context's
// timer fires only when the scheduler runs, and a tool blocked in host calls never yields.
func contextErr(req *Request) error {
	ctx := contextOf(req)
	if err := ctx.Err(); err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// writeBody streams the request body (4096 bytes at most per blocking-write-and-flush) and
// finishes it.
func writeBody(body uint32, from io.Reader) error {
	stream, err := takeHandle(outgoingBodyWrite, body, "the request body's stream")
	if err != nil {
		dropOutgoingBody(body)
		return err
	}
	buf := make([]byte, 4096)
	var writeErr error
	for writeErr == nil {
		n, readErr := from.Read(buf)
		if n > 0 {
			writeErr = streamWrite(stream, buf[:n])
		}
		if readErr == io.EOF {
			break
		}
		if readErr != nil && writeErr == nil {
			writeErr = readErr
		}
	}
	dropOutputStream(stream)
	if writeErr != nil {
		dropOutgoingBody(body)
		return writeErr
	}
	defer cabi.Begin()()
	ret := cabi.Alloc(40, 8) // result<_, error-code>: the error @8
	received := cabi.ReceiveResults()
	outgoingBodyFinish(body, 0, 0, ret)
	received()
	if cabi.Load8(ret) != 0 {
		return loadErrorCode(ret + 8)
	}
	return nil
}

// streamWrite: result<_, stream-error> (case @0; stream-error case @4, its error @8).
func streamWrite(stream uint32, b []byte) error {
	defer cabi.Begin()()
	p, n := cabi.LowerBytes(b)
	ret := cabi.Alloc(12, 4)
	blockingWriteAndFlush(stream, p, n, ret)
	if cabi.Load8(ret) == 0 {
		return nil
	}
	return streamError(ret+4, "sending the request body")
}

// streamError reads a stream-error (last-operation-failed(error) or closed) at p.
func streamError(p uint32, doing string) error {
	if cabi.Load8(p) != 0 {
		return &Error{Code: "connection-terminated", Detail: doing + ": the stream closed"}
	}
	handle := cabi.Load32(p + 4)
	ret := cabi.Alloc(8, 4)
	received := cabi.ReceiveResults()
	errorToDebugString(handle, ret)
	received()
	dropIOError(handle)
	return &Error{Code: "connection-terminated", Detail: doing + ": " + cabi.LoadString(ret)}
}

// await blocks until the response's head arrives. get's result is
// option<result<result<incoming-response, error-code>>>: option case @0, outer result @8,
// inner result @16, the response or error-code @24.
func await(future uint32) (uint32, error) {
	defer dropFuture(future)
	pollable := subscribe(future)
	block(pollable)
	dropPollable(pollable)
	defer cabi.Begin()()
	ret := cabi.Alloc(56, 8)
	received := cabi.ReceiveResults()
	futureGet(future, ret)
	received()
	switch {
	case cabi.Load8(ret) == 0:
		return 0, &Error{Code: "internal-error", Detail: "no response after the wait"}
	case cabi.Load8(ret+8) != 0:
		return 0, &Error{Code: "internal-error", Detail: "the response was already taken"}
	case cabi.Load8(ret+16) != 0:
		return 0, loadErrorCode(ret + 24)
	}
	return cabi.Load32(ret + 24), nil
}

// incomingResponse turns the response resource into a Response whose Body streams.
func incomingResponse(response uint32, req *Request) (*Response, error) {
	status := int(responseStatus(response))
	header := Header{}
	fields := responseHeaders(response)
	end := cabi.Begin()
	ret := cabi.Alloc(8, 4)
	received := cabi.ReceiveResults()
	fieldsEntries(fields, ret) // list<tuple<string, list<u8>>>
	received()
	list, n := cabi.Load32(ret), cabi.Load32(ret+4)
	for i := range n {
		at := list + i*16
		header.Add(cabi.LoadString(at), string(cabi.LoadBytes(at+8)))
	}
	end()
	dropFields(fields)

	body, err := takeHandle(responseConsume, response, "the response body")
	if err != nil {
		dropIncomingResponse(response)
		return nil, err
	}
	stream, err := takeHandle(incomingBodyStream, body, "the response body's stream")
	if err != nil {
		dropFutureTrailers(incomingBodyFinish(body))
		dropIncomingResponse(response)
		return nil, err
	}
	return &Response{
		StatusCode: status,
		Header:     header,
		Body:       &bodyReader{response: response, body: body, stream: stream, req: req},
	}, nil
}

// takeHandle calls a function returning result<own<T>> (case @0, handle @4).
func takeHandle(call func(self, ret uint32), self uint32, what string) (uint32, error) {
	defer cabi.Begin()()
	ret := cabi.Alloc(8, 4)
	call(self, ret)
	if cabi.Load8(ret) != 0 {
		return 0, &Error{Code: "internal-error", Detail: what + " was already taken"}
	}
	return cabi.Load32(ret + 4), nil
}

// The most one blocking-read asks for.
const readSize = 64 << 10

// bodyReader streams a response body; Close gives its resources back to the host.
type bodyReader struct {
	response, body, stream uint32
	done, closed           bool
	landing                []byte
	req                    *Request // whose context's deadline ends the reading
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.closed {
		return 0, io.ErrClosedPipe
	}
	if b.done || len(p) == 0 {
		if b.done {
			return 0, io.EOF
		}
		return 0, nil
	}
	// Checked before each read: a read blocks in the host, where no timer can interrupt it.
	if err := contextErr(b.req); err != nil {
		return 0, err
	}
	for {
		n, err := b.read(p)
		if n > 0 || err != nil {
			return n, err
		}
	}
}

// read is one blocking-read: result<list<u8>, stream-error>, the list or stream-error @4.
// The bytes land in the reader's own buffer (cabi.Land), the same one every time.
func (b *bodyReader) read(p []byte) (int, error) {
	defer cabi.Begin()()
	if b.landing == nil {
		b.landing = make([]byte, readSize)
	}
	ret := cabi.Alloc(12, 4)
	landed := cabi.Land(b.landing)
	blockingRead(b.stream, uint64(min(len(p), readSize)), ret)
	landed()
	if cabi.Load8(ret) == 0 {
		return copy(p, cabi.Mem(cabi.Load32(ret+4), cabi.Load32(ret+8))), nil
	}
	if cabi.Load8(ret+4) == 1 { // closed: the whole body was read
		b.done = true
		return 0, io.EOF
	}
	return 0, streamError(ret+4, "reading the response body")
}

func (b *bodyReader) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	dropInputStream(b.stream) // a child of the body: dropped first
	dropFutureTrailers(incomingBodyFinish(b.body))
	dropIncomingResponse(b.response)
	return nil
}
