package router

// This file follows the framing of a chunked response body (RFC 9112 section
// 7.1) that the fast path relays byte for byte. It decodes nothing: it only
// has to know, as the bytes stream past, exactly where the body ends, and it
// must agree with net/http about that point. A disagreement would let an
// upstream smuggle a second response onto a reused connection, so the grammar
// is strict and every limit is at least as tight as net/http's.

// Limits on the framing. Where net/http has a limit, this one is at least as
// tight as net/http's with its default 4 KiB read buffer.
const (
	// chunkMaxLine bounds a chunk-size line (size, whitespace and
	// extensions, without its CRLF). net/http rejects a line of 4096 bytes
	// or more, and also one that does not fit its read buffer with its
	// CRLF; 4094 bytes is the most that passes both with the default buffer.
	chunkMaxLine = 4094

	// chunkMaxTrailer bounds the trailer section, from the byte after the
	// last-chunk line up to and including the final CRLF. net/http bounds
	// it by the size of its read buffer instead, so a client with the
	// default 4 KiB buffer refuses a larger trailer section that passes
	// here: a refusal, not a disagreement about where the body ends.
	chunkMaxTrailer = 64 << 10

	// chunkMaxExcess and chunkFreeOverhead reproduce net/http's defence
	// against a sender that drowns a little data in chunk framing: the
	// overhead beyond 16 bytes per chunk plus twice the chunk's size,
	// carried from chunk to chunk, must never exceed 16 KiB.
	chunkMaxExcess    = 16 << 10
	chunkFreeOverhead = 16

	// chunkMaxCredit is the largest chunk size whose credit against the
	// excess is computed exactly; a larger chunk clears the excess
	// outright, which keeps the arithmetic from overflowing.
	chunkMaxCredit = 1 << 40

	// chunkMaxDigits and chunkMaxSize bound chunk-size: net/http reads at
	// most 16 hex digits, and a size beyond the int64 range cannot be
	// counted by the standard library's int64 lengths anyway.
	chunkMaxDigits = 16
	chunkMaxSize   = 1<<63 - 1
)

// chunkError is a framing error. It is a string type so that the errors below
// can be constants, comparable with == and errors.Is, instead of package
// variables that could be reassigned.
type chunkError string

func (e chunkError) Error() string { return "chunked encoding: " + string(e) }

// The framing errors scan reports. Those marked "stricter" refuse some input
// that net/http reads without error; the others refuse only input that
// net/http refuses too, with its default 4 KiB read buffer.
const (
	errChunkBareLF        = chunkError("bare LF") // stricter: net/http allows it ending a trailer line
	errChunkBareCR        = chunkError("CR not followed by LF")
	errChunkSizeMissing   = chunkError("missing chunk size")
	errChunkSizeInvalid   = chunkError("invalid byte in chunk size line")
	errChunkSizeTooLarge  = chunkError("chunk size too large") // stricter: over 2^63-1
	errChunkExtAfterOWS   = chunkError("whitespace before chunk extension")
	errChunkLineTooLong   = chunkError("chunk size line too long") // stricter with a buffer over 4 KiB
	errChunkTooMuchFrame  = chunkError("too much framing for too little data")
	errChunkDataNoCRLF    = chunkError("chunk data not followed by CRLF")
	errChunkTrailerFold   = chunkError("trailer line starts with whitespace (obs-fold)") // stricter
	errChunkTrailerSpace  = chunkError("space in trailer field name")                    // stricter
	errChunkTrailerName   = chunkError("invalid byte in trailer field name")
	errChunkTrailerValue  = chunkError("invalid byte in trailer field value")
	errChunkTrailerTooBig = chunkError("trailer section too large")
)

// chunkState is where the scanner stands in the chunked grammar.
type chunkState uint8

const (
	chunkAtSize         chunkState = iota // before the first digit of chunk-size
	chunkInSize                           // within the digits of chunk-size
	chunkInSizeOWS                        // in whitespace after chunk-size
	chunkInExt                            // within chunk extensions
	chunkAtSizeLF                         // after the CR of a chunk-size line
	chunkInData                           // within chunk-data
	chunkAtDataCR                         // after chunk-data, before its CR
	chunkAtDataLF                         // after chunk-data and its CR
	chunkAtTrailer                        // at the start of a trailer line
	chunkInTrailerName                    // within a trailer field name
	chunkInTrailerValue                   // after the colon of a trailer field
	chunkAtTrailerLF                      // after the CR of a trailer line
	chunkAtEndLF                          // after the CR of the final CRLF
	chunkDone                             // after the final CRLF
)

// chunkScanner follows the framing of a chunked body relayed verbatim. The
// zero value is ready for a new body.
//
// The state is a handful of counters, whatever the size of a chunk or how the
// body is split into pieces: nothing of the input is buffered.
type chunkScanner struct {
	state   chunkState
	digits  uint8  // hex digits of chunk-size read so far
	size    uint64 // chunk-size as parsed, then the chunk-data still to come
	line    int    // bytes of the chunk-size line so far, without CRLF
	excess  int64  // framing overhead not yet paid for by data, as net/http counts it
	trailer int    // bytes of the trailer section so far
	err     error  // the framing error, once there is one
}

// reset readies s for a new body.
func (s *chunkScanner) reset() {
	*s = chunkScanner{}
}

// scan consumes p, the next bytes of the body. It returns how many of them
// belong to the body — all of p unless the body ends within it — and whether
// the body has ended. After done, scan must not be called again (reset first).
// A framing error (err != nil) is final; n is then meaningless.
func (s *chunkScanner) scan(p []byte) (n int, done bool, err error) {
	if s.err != nil {
		return 0, false, s.err
	}
	if s.state == chunkDone {
		return 0, true, nil
	}
	for n < len(p) {
		if s.state == chunkInData {
			n += s.skipData(len(p) - n)
			continue
		}
		if err := s.step(p[n]); err != nil {
			s.err = err
			return n, false, err
		}
		n++
		if s.state == chunkDone {
			return n, true, nil
		}
	}
	return n, false, nil
}

// skipData passes over up to avail bytes of chunk-data in one step, so that
// the cost of a chunk does not depend on its size. It returns how many bytes
// it passed over.
func (s *chunkScanner) skipData(avail int) int {
	k := s.size
	if uint64(avail) < k {
		k = uint64(avail)
	}
	s.size -= k
	if s.size == 0 {
		s.state = chunkAtDataCR
	}
	return int(k)
}

// step advances s over one byte of framing (anything but chunk-data).
func (s *chunkScanner) step(c byte) error {
	switch s.state {
	case chunkAtSize, chunkInSize, chunkInSizeOWS, chunkInExt:
		return s.sizeLine(c)
	case chunkAtSizeLF:
		return s.endSizeLine(c)
	case chunkAtDataCR:
		return s.expect(c, '\r', errChunkDataNoCRLF, chunkAtDataLF)
	case chunkAtDataLF:
		if c != '\n' {
			return errChunkDataNoCRLF
		}
		s.nextChunk()
		return nil
	default:
		return s.trailerByte(c)
	}
}

// nextChunk readies s for the next chunk-size line. Only the framing excess
// carries over from one chunk to the next.
func (s *chunkScanner) nextChunk() {
	*s = chunkScanner{excess: s.excess}
}

// expect moves s to next if c is want, and otherwise reports err.
func (s *chunkScanner) expect(c, want byte, err error, next chunkState) error {
	if c != want {
		return err
	}
	s.state = next
	return nil
}

// sizeLine takes one byte of a chunk-size line before its CR:
// chunk-size [ OWS ] CRLF or chunk-size chunk-ext CRLF. net/http trims
// whitespace from the end of the line before it cuts off the extensions, so
// it accepts whitespace after the size only when no extension follows; so do
// we, and no whitespace anywhere else (an extension's own bytes aside).
func (s *chunkScanner) sizeLine(c byte) error {
	switch c {
	case '\r':
		if s.state == chunkAtSize {
			return errChunkSizeMissing
		}
		s.state = chunkAtSizeLF
		return nil
	case '\n':
		return errChunkBareLF
	}
	if s.line++; s.line > chunkMaxLine {
		return errChunkLineTooLong
	}
	switch s.state {
	case chunkAtSize, chunkInSize:
		return s.sizeDigit(c)
	case chunkInSizeOWS:
		return s.sizeOWS(c)
	}
	return nil // Extensions are not interpreted, as net/http does not.
}

// sizeDigit takes a byte where a hex digit of chunk-size, or what may follow
// the digits, is expected.
func (s *chunkScanner) sizeDigit(c byte) error {
	if d, ok := chunkHexValue(c); ok {
		if s.digits == chunkMaxDigits || s.size > chunkMaxSize>>4 {
			return errChunkSizeTooLarge
		}
		s.size = s.size<<4 | d
		s.digits++
		s.state = chunkInSize
		return nil
	}
	if s.state == chunkAtSize {
		return errChunkSizeInvalid
	}
	switch c {
	case ';':
		s.state = chunkInExt
	case ' ', '\t':
		s.state = chunkInSizeOWS
	default:
		return errChunkSizeInvalid
	}
	return nil
}

// sizeOWS takes a byte after whitespace that follows chunk-size; only more
// whitespace may come before the CR.
func (s *chunkScanner) sizeOWS(c byte) error {
	switch c {
	case ' ', '\t':
		return nil
	case ';':
		return errChunkExtAfterOWS
	}
	return errChunkSizeInvalid
}

// endSizeLine takes the byte after the CR of a chunk-size line, which must be
// LF, and moves on to the chunk-data or, after the last-chunk, the trailers.
func (s *chunkScanner) endSizeLine(c byte) error {
	if c != '\n' {
		return errChunkBareCR
	}
	if s.size == 0 {
		s.state = chunkAtTrailer
		return nil
	}
	s.state = chunkInData
	return s.chargeFraming()
}

// chargeFraming does net/http's accounting of framing overhead for the
// chunk-size line just read, so that no body it rejects as mostly framing
// gets through here: the line and the CRLF after its data cost their length,
// and each chunk pays back 16 bytes plus twice its size. net/http lets the
// last-chunk through whatever the excess (its io.EOF overwrites the error),
// so the last-chunk is not charged.
func (s *chunkScanner) chargeFraming() error {
	s.excess += int64(s.line) + 2
	if s.size > chunkMaxCredit {
		s.excess = 0
	} else {
		s.excess = max(s.excess-chunkFreeOverhead-2*int64(s.size), 0)
	}
	if s.excess > chunkMaxExcess {
		return errChunkTooMuchFrame
	}
	return nil
}

// trailerByte takes one byte of the trailer section: field lines of the form
// token ":" value CRLF, then CRLF. Unlike net/http it refuses obs-fold, a
// space before the colon and bare LF line ends: RFC 9112 lets a recipient
// refuse the first and the last, and forbids accepting the second.
func (s *chunkScanner) trailerByte(c byte) error {
	if s.trailer++; s.trailer > chunkMaxTrailer {
		return errChunkTrailerTooBig
	}
	switch s.state {
	case chunkAtTrailer:
		return s.trailerLineStart(c)
	case chunkInTrailerName:
		return s.trailerName(c)
	case chunkInTrailerValue:
		return s.trailerValue(c)
	case chunkAtTrailerLF:
		return s.expect(c, '\n', errChunkBareCR, chunkAtTrailer)
	default: // chunkAtEndLF
		return s.expect(c, '\n', errChunkBareCR, chunkDone)
	}
}

// trailerLineStart takes the first byte of a trailer line: the CR of the
// final CRLF or the first byte of a field name.
func (s *chunkScanner) trailerLineStart(c byte) error {
	switch {
	case c == '\r':
		s.state = chunkAtEndLF
	case chunkTokenByte(c):
		s.state = chunkInTrailerName
	case c == ' ' || c == '\t':
		return errChunkTrailerFold
	case c == '\n':
		return errChunkBareLF
	default:
		return errChunkTrailerName
	}
	return nil
}

// trailerName takes a byte after the first of a field name.
func (s *chunkScanner) trailerName(c byte) error {
	switch {
	case chunkTokenByte(c):
	case c == ':':
		s.state = chunkInTrailerValue
	case c == ' ':
		return errChunkTrailerSpace
	case c == '\n':
		return errChunkBareLF
	default:
		return errChunkTrailerName
	}
	return nil
}

// trailerValue takes a byte after the colon of a field line.
func (s *chunkScanner) trailerValue(c byte) error {
	switch {
	case chunkValueByte(c):
	case c == '\r':
		s.state = chunkAtTrailerLF
	case c == '\n':
		return errChunkBareLF
	default:
		return errChunkTrailerValue
	}
	return nil
}

// chunkHexValue returns the value of the hex digit c.
func chunkHexValue(c byte) (uint64, bool) {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return uint64(c - 'a' + 10), true
	case 'A' <= c && c <= 'F':
		return uint64(c - 'A' + 10), true
	}
	return 0, false
}

// chunkTokenByte reports whether c may appear in a field name (tchar of RFC
// 9110), the same set net/textproto accepts. The set is a 128-bit mask held
// in two constants, so the test is branch-free and needs no table variable.
func chunkTokenByte(c byte) bool {
	const (
		lo = 1<<'!' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' | 1<<'\'' |
			1<<'*' | 1<<'+' | 1<<'-' | 1<<'.' | (1<<10-1)<<'0'
		hi = (1<<26-1)<<('A'-64) | 1<<('^'-64) | 1<<('_'-64) |
			1<<('`'-64) | (1<<26-1)<<('a'-64) | 1<<('|'-64) | 1<<('~'-64)
	)
	return chunkInMask(c, lo, hi)
}

// chunkValueByte reports whether c may appear in a field value: visible
// ASCII, SP, HTAB and obs-text, the same set net/textproto accepts.
func chunkValueByte(c byte) bool {
	const (
		lo = 1<<'\t' | (1<<32-1)<<32 // HTAB, SP and '!' to '?'
		hi = 1<<63 - 1               // '@' to '~', without DEL
	)
	return c >= 0x80 || chunkInMask(c, lo, hi)
}

// chunkInMask reports whether the bit for c is set in the 128-bit mask lo|hi;
// bytes from 128 up are never in it. A shift of 64 or more yields 0 in Go
// (and c-64 wraps around for c below 64), so each half only answers for its
// own range.
func chunkInMask(c byte, lo, hi uint64) bool {
	return ((uint64(1)<<c)&lo | (uint64(1)<<(c-64))&hi) != 0
}
