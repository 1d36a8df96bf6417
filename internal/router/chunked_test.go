package router

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// oracleBufSize is the read buffer net/http gets when it serves as the
// oracle. net/http bounds the trailer section by its read buffer, so with this
// size its bound is the scanner's chunkMaxTrailer and the two can be compared
// at that limit too.
const oracleBufSize = chunkMaxTrailer

// netHTTPChunkedEnd reads input as the chunked body of a response with
// net/http, body and trailers, through a read buffer of bufSize bytes. It
// returns where net/http found the body to end, or why it failed.
func netHTTPChunkedEnd(input []byte, bufSize int) (end int, err error) {
	const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	src := io.MultiReader(strings.NewReader(head), bytes.NewReader(input))
	br := bufio.NewReaderSize(src, bufSize)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, err
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		return 0, err
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		return 0, err
	}
	return len(input) - len(rest), nil
}

// scanResult is what a scanner reported over a whole input.
type scanResult struct {
	n    int // bytes of the input in the body, summed over the pieces
	done bool
	err  error
}

// scanPieces runs a new scanner over input cut into pieces of the given sizes,
// taken in turn and cyclically; with no sizes, input goes in one piece. Empty
// pieces are honoured only in the first pass over sizes, so that the loop
// ends whatever the sizes.
func scanPieces(input []byte, sizes []int) scanResult {
	var s chunkScanner
	var r scanResult
	for i, off := 0, 0; ; i++ {
		size := len(input) - off
		if len(sizes) > 0 && (sizes[i%len(sizes)] > 0 || i < len(sizes)) {
			size = min(size, sizes[i%len(sizes)])
		}
		n, done, err := s.scan(input[off : off+size])
		if err != nil {
			return scanResult{n: r.n, err: err}
		}
		if n != size && !done {
			return scanResult{n: -1, err: errors.New("scan stopped short without done")}
		}
		r.n += n
		off += size
		if done {
			r.done = true
			return r
		}
		if off == len(input) && i >= len(sizes) {
			return r
		}
	}
}

// randomSizes returns piece sizes from 0 to 9 bytes.
func randomSizes(rng *rand.Rand) []int {
	sizes := make([]int, 1+rng.IntN(20))
	for i := range sizes {
		sizes[i] = rng.IntN(10)
	}
	return sizes
}

// sameResult reports whether two scans agree: on done and where the body
// ended, or on the very error.
func sameResult(a, b scanResult) bool {
	if a.err != nil || b.err != nil {
		return a.err == b.err
	}
	return a.done == b.done && (!a.done || a.n == b.n)
}

// stricterThanNetHTTP reports whether err is one of the errors by which the
// scanner may refuse a body that net/http (with oracleBufSize) reads, given
// the bytes net/http read: a 4095-byte chunk-size line, obs-fold and a space
// before the colon in the trailers, and a bare LF there when there is one.
func stricterThanNetHTTP(err error, read []byte) bool {
	switch err {
	case errChunkLineTooLong, errChunkTrailerFold, errChunkTrailerSpace:
		return true
	case errChunkBareLF:
		return bytes.Count(read, []byte("\n")) != bytes.Count(read, []byte("\r\n"))
	}
	return false
}

type chunkCase struct {
	name string
	body string // the body, up to where it ends if it does
	// after follows the body in the input; the scanner must stop before it.
	after      string
	incomplete bool  // the body has not ended by the end of the input
	err        error // the error expected, if any
	// strict marks an input net/http reads without error although the
	// scanner refuses it.
	strict bool
}

// chunkCases returns the table of bodies shared by the tests and the seed
// corpus of the fuzz test.
func chunkCases() []chunkCase {
	ext := strings.Repeat("e", 4000)
	mostlyFraming := strings.Repeat("1;"+ext+"\r\nx\r\n", 4)
	return []chunkCase{
		{name: "empty body", body: "0\r\n\r\n"},
		{name: "zeros", body: "000\r\n\r\n"},
		{name: "one chunk", body: "1\r\na\r\n0\r\n\r\n"},
		{name: "hex sizes", body: "a\r\n0123456789\r\nB\r\n0123456789a\r\n0\r\n\r\n"},
		{name: "framing in data", body: "7\r\n0\r\n\r\nxy\r\n0\r\n\r\n"},
		{name: "any bytes in data", body: "4\r\n\n\r\x00\xff\r\n0\r\n\r\n"},
		{name: "16 digits", body: "0000000000000001\r\nx\r\n0\r\n\r\n"},
		{name: "extensions", body: "1;a=b\r\nx\r\n0;last\r\n\r\n"},
		{name: "quoted extension", body: "1;a=\"b;c\\\"\"\r\nx\r\n0\r\n\r\n"},
		{name: "empty extension", body: "1;\r\nx\r\n0;\r\n\r\n"},
		{name: "extension with spaces", body: "1;a = b \t\r\nx\r\n0\r\n\r\n"},
		{name: "extension of any bytes", body: "1;\x00\x7f\xff \"\r\nx\r\n0\r\n\r\n"},
		{name: "OWS after size", body: "1 \r\nx\r\n0\t \r\n\r\n"},
		{name: "trailer", body: "0\r\nX-A: b\r\n\r\n"},
		{name: "trailers", body: "0\r\nA: 1\r\nb-c:2 \t\r\nD:\r\n\r\n"},
		{name: "trailer value bytes", body: "0\r\nA: x:y \"z\" \xff\x80\t~\r\n\r\n"},
		{name: "token bytes", body: "0\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n"},
		{name: "data then trailer", body: "2\r\nab\r\n0\r\nX: y\r\n\r\n"},
		{name: "garbage after end", body: "0\r\n\r\n", after: "HTTP/1.1 200 OK\r\n\r\n"},
		{name: "next chunk after end", body: "1\r\nx\r\n0\r\n\r\n", after: "1\r\nx\r\n"},
		{name: "trailer then garbage", body: "0\r\nX: y\r\n\r\n", after: "\r\n\n\r garbage"},
		{name: "body then CRLF", body: "2\r\nab\r\n0\r\n\r\n", after: "\r\n"},
		{name: "line at limit", body: "1;" + strings.Repeat("e", chunkMaxLine-2) + "\r\nx\r\n0\r\n\r\n"},
		{name: "framing at limit", body: mostlyFraming + "1;" + strings.Repeat("e", 454) + "\r\nx\r\n0\r\n\r\n"},
		{name: "last-chunk not charged", body: mostlyFraming + "1;" + strings.Repeat("e", 454) + "\r\nx\r\n0;" + ext + "\r\n\r\n"},
		{name: "trailer at limit", body: "0\r\n" + bigTrailer(chunkMaxTrailer)},

		{name: "nothing", body: "", incomplete: true},
		{name: "in size", body: "1", incomplete: true},
		{name: "in extension", body: "1;a", incomplete: true},
		{name: "before LF", body: "1\r", incomplete: true},
		{name: "in data", body: "5\r\nab", incomplete: true},
		{name: "before data CRLF", body: "2\r\nab", incomplete: true},
		{name: "in data CRLF", body: "2\r\nab\r", incomplete: true},
		{name: "in trailer", body: "0\r\nX: y\r\n", incomplete: true},
		{name: "before final LF", body: "0\r\n\r", incomplete: true},
		{name: "largest size", body: "7fffffffffffffff\r\n", incomplete: true},
		{name: "largest size upper case", body: "7FFFFFFFFFFFFFFF;x\r\nabc", incomplete: true},

		{name: "empty size line", body: "\r\n", err: errChunkSizeMissing},
		{name: "no size", body: ";a\r\n", err: errChunkSizeInvalid},
		{name: "space before size", body: " 1\r\nx\r\n0\r\n\r\n", err: errChunkSizeInvalid},
		{name: "sign", body: "+1\r\nx\r\n0\r\n\r\n", err: errChunkSizeInvalid},
		{name: "0x", body: "0x1\r\nx\r\n0\r\n\r\n", err: errChunkSizeInvalid},
		{name: "not hex", body: "g\r\n", err: errChunkSizeInvalid},
		{name: "junk after size", body: "1x\r\nx\r\n0\r\n\r\n", err: errChunkSizeInvalid},
		{name: "junk after OWS", body: "1 x\r\nx\r\n0\r\n\r\n", err: errChunkSizeInvalid},
		{name: "OWS before extension", body: "1 ;a\r\nx\r\n0\r\n\r\n", err: errChunkExtAfterOWS},
		{name: "17 digits", body: "00000000000000001\r\nx\r\n0\r\n\r\n", err: errChunkSizeTooLarge},
		{name: "2^63", body: "8000000000000000\r\n", err: errChunkSizeTooLarge},
		{name: "2^64", body: "10000000000000000\r\n", err: errChunkSizeTooLarge},
		{name: "bare LF after size", body: "1\nx\r\n0\r\n\r\n", err: errChunkBareLF},
		{name: "bare LF in extension", body: "1;a\nx\r\n0\r\n\r\n", err: errChunkBareLF},
		{name: "bare LF after OWS", body: "1 \n", err: errChunkBareLF},
		{name: "bare CR after size", body: "1\rx\r\n", err: errChunkBareCR},
		{name: "bare CR in extension", body: "1;a\rb\r\nx\r\n0\r\n\r\n", err: errChunkBareCR},
		{name: "CR CR LF", body: "1\r\r\nx\r\n0\r\n\r\n", err: errChunkBareCR},
		{name: "long data", body: "1\r\nab\r\n0\r\n\r\n", err: errChunkDataNoCRLF},
		{name: "bare LF after data", body: "1\r\na\n0\r\n\r\n", err: errChunkDataNoCRLF},
		{name: "bare CR after data", body: "1\r\na\rx", err: errChunkDataNoCRLF},
		{name: "LF CR after data", body: "1\r\na\n\r0\r\n\r\n", err: errChunkDataNoCRLF},
		{name: "no CRLF after last-chunk", body: "0\r\n0\r\n\r\n", err: errChunkTrailerName},
		{name: "line too long", body: "1;" + strings.Repeat("e", chunkMaxLine-1) + "\r\nx\r\n0\r\n\r\n", err: errChunkLineTooLong, strict: true},
		{name: "line far too long", body: "1;" + strings.Repeat("e", 5000) + "\r\nx\r\n0\r\n\r\n", err: errChunkLineTooLong},
		{name: "too much framing", body: mostlyFraming + "1;" + strings.Repeat("e", 455) + "\r\nx\r\n0\r\n\r\n", err: errChunkTooMuchFrame},
		{name: "trailer too big", body: "0\r\n" + bigTrailer(chunkMaxTrailer+1), err: errChunkTrailerTooBig},
		{name: "space before first trailer", body: "0\r\n X: y\r\n\r\n", err: errChunkTrailerFold},
		{name: "obs-fold", body: "0\r\nX: y\r\n z\r\n\r\n", err: errChunkTrailerFold, strict: true},
		{name: "tab fold", body: "0\r\nX: y\r\n\tz\r\n\r\n", err: errChunkTrailerFold, strict: true},
		{name: "space before colon", body: "0\r\nX : y\r\n\r\n", err: errChunkTrailerSpace, strict: true},
		{name: "space in name", body: "0\r\nX Y: z\r\n\r\n", err: errChunkTrailerSpace, strict: true},
		{name: "tab before colon", body: "0\r\nX\t: y\r\n\r\n", err: errChunkTrailerName},
		{name: "no colon", body: "0\r\nX\r\n\r\n", err: errChunkTrailerName},
		{name: "empty name", body: "0\r\n: y\r\n\r\n", err: errChunkTrailerName},
		{name: "bad name byte", body: "0\r\nX(: y\r\n\r\n", err: errChunkTrailerName},
		{name: "non-ASCII name", body: "0\r\n\xc3\xa9: y\r\n\r\n", err: errChunkTrailerName},
		{name: "NUL in value", body: "0\r\nX: a\x00b\r\n\r\n", err: errChunkTrailerValue},
		{name: "DEL in value", body: "0\r\nX: a\x7f\r\n\r\n", err: errChunkTrailerValue},
		{name: "bare CR in value", body: "0\r\nX: a\rb\r\n\r\n", err: errChunkBareCR},
		{name: "CR CR LF in trailer", body: "0\r\nX: y\r\r\n\r\n", err: errChunkBareCR},
		{name: "bare LF in trailer", body: "0\r\nX: y\nZ: w\r\n\r\n\r\n", err: errChunkBareLF, strict: true},
		{name: "bare LF in name", body: "0\r\nX\n", err: errChunkBareLF},
		{name: "bare LF ends trailers", body: "0\r\nX: y\r\n\n\r\n\r\n", err: errChunkBareLF, strict: true},
		{name: "bare LF as end", body: "0\r\n\n", err: errChunkBareLF},
		{name: "bare CR as end", body: "0\r\n\rx", err: errChunkBareCR},
		{name: "bare CR after trailer", body: "0\r\nX: y\r\n\rx", err: errChunkBareCR},
	}
}

// bigTrailer returns a trailer section of exactly size bytes (at least 6),
// final CRLF included, made of field lines of at most 1000 bytes.
func bigTrailer(size int) string {
	var b strings.Builder
	for left := size - 2; left > 0; {
		line := min(left, 1000)
		if left-line > 0 && left-line < 5 { // leave room for a last line
			line -= 5
		}
		b.WriteString("X:")
		b.WriteString(strings.Repeat("v", line-4))
		b.WriteString("\r\n")
		left -= line
	}
	b.WriteString("\r\n")
	if b.Len() != size {
		panic(fmt.Sprintf("bigTrailer(%d) made %d bytes", size, b.Len()))
	}
	return b.String()
}

// TestChunkScanner checks every case however the body is cut into pieces,
// and checks the table itself against net/http.
func TestChunkScanner(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range chunkCases() {
		t.Run(tc.name, func(t *testing.T) {
			input := []byte(tc.body + tc.after)
			want := scanResult{n: len(tc.body), done: tc.err == nil && !tc.incomplete, err: tc.err}
			check := func(how string, sizes []int) {
				t.Helper()
				got := scanPieces(input, sizes)
				if !sameResult(got, want) {
					t.Fatalf("%s: got n=%d done=%v err=%v, want n=%d done=%v err=%v",
						how, got.n, got.done, got.err, want.n, want.done, want.err)
				}
			}
			check("one piece", nil)
			check("byte by byte", []int{1})
			for range 20 {
				check("random pieces", randomSizes(rng))
			}
			if len(input) <= 1000 {
				for k := range len(input) + 1 {
					check("split", []int{k, len(input)})
				}
			}
			checkOracle(t, input, want, tc.strict)
		})
	}
}

// checkOracle checks a table case against net/http: it must accept exactly
// the bodies the scanner accepts, but for the strict cases, and find them to
// end at the same byte.
func checkOracle(t *testing.T, input []byte, want scanResult, strict bool) {
	t.Helper()
	end, err := netHTTPChunkedEnd(input, oracleBufSize)
	switch {
	case want.done && (err != nil || end != want.n):
		t.Fatalf("net/http: end %d, error %v; want end %d", end, err, want.n)
	case !want.done && strict && err != nil:
		t.Fatalf("net/http: %v; the case is marked as accepted by net/http", err)
	case !want.done && !strict && err == nil:
		t.Fatalf("net/http read the body up to %d without error", end)
	}
}

// TestChunkScannerLimitsVsDefaultBuffer shows how the limits compare with
// net/http when it reads with its default 4 KiB buffer, as http.Transport
// does: the chunk-size line limit is the same, the trailer limit is looser.
func TestChunkScannerLimitsVsDefaultBuffer(t *testing.T) {
	line := func(n int) string {
		return "1;" + strings.Repeat("e", n-2) + "\r\nx\r\n0\r\n\r\n"
	}
	cases := []struct {
		name       string
		input      string
		scanOK     bool // the scanner reads the body
		netOK      bool // net/http reads it with a 4 KiB buffer
		netOK64KiB bool // net/http reads it with a 64 KiB buffer
	}{
		{"line 4094", line(4094), true, true, true},
		{"line 4095", line(4095), false, false, true},
		{"trailer 4096", "0\r\n" + bigTrailer(4096), true, true, true},
		{"trailer 4097", "0\r\n" + bigTrailer(4097), true, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			input := []byte(tc.input)
			if got := scanPieces(input, nil); got.done != tc.scanOK {
				t.Errorf("scanner: done %v, error %v", got.done, got.err)
			}
			if _, err := netHTTPChunkedEnd(input, 4096); (err == nil) != tc.netOK {
				t.Errorf("net/http with a 4 KiB buffer: %v", err)
			}
			if _, err := netHTTPChunkedEnd(input, oracleBufSize); (err == nil) != tc.netOK64KiB {
				t.Errorf("net/http with a 64 KiB buffer: %v", err)
			}
		})
	}
}

// TestChunkScannerReset checks that reset readies a scanner for a new body
// after one ended and after an error.
func TestChunkScannerReset(t *testing.T) {
	var s chunkScanner
	body := []byte("3\r\nabc\r\n0\r\nX: y\r\n\r\n")
	for i, p := range [][]byte{body, []byte("1\r\nab"), body} {
		n, done, err := s.scan(p)
		if i != 1 && (n != len(body) || !done || err != nil) {
			t.Fatalf("body %d: n=%d done=%v err=%v", i, n, done, err)
		}
		if i == 1 {
			if err != errChunkDataNoCRLF {
				t.Fatalf("body %d: err=%v", i, err)
			}
			if _, _, err := s.scan(body); err != errChunkDataNoCRLF {
				t.Fatalf("error not final: %v", err)
			}
		}
		s.reset()
	}
}

// TestChunkScannerHugeChunk checks that a 1 GiB chunk is just a counter: it
// is scanned in large pieces without being held anywhere.
func TestChunkScannerHugeChunk(t *testing.T) {
	var s chunkScanner
	piece := make([]byte, 1<<20)
	if n, done, err := s.scan([]byte("40000000\r\n")); n != 10 || done || err != nil {
		t.Fatalf("size line: n=%d done=%v err=%v", n, done, err)
	}
	for range 1 << 10 {
		if n, done, err := s.scan(piece); n != len(piece) || done || err != nil {
			t.Fatalf("data: n=%d done=%v err=%v", n, done, err)
		}
	}
	if n, done, err := s.scan([]byte("\r\n0\r\n\r\nrest")); n != 7 || !done || err != nil {
		t.Fatalf("end: n=%d done=%v err=%v", n, done, err)
	}
}

// TestChunkScannerAllocs checks that scanning a typical body, in pieces,
// trailers included, allocates nothing.
func TestChunkScannerAllocs(t *testing.T) {
	body := chunkedBody(16, 4096)
	body = append(body[:len(body)-len("0\r\n\r\n")], "1;a=b\r\nx\r\n0\r\nX-Sum: abc\r\n\r\n"...)
	var s chunkScanner
	allocs := testing.AllocsPerRun(100, func() {
		s.reset()
		end := 0
		for p := body; len(p) > 0; p = p[min(len(p), 1000):] {
			n, done, err := s.scan(p[:min(len(p), 1000)])
			if end += n; err != nil || done != (end == len(body)) {
				t.Fatalf("n=%d done=%v err=%v", end, done, err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per body", allocs)
	}
}

// chunkedBody returns a body of n chunks of size bytes each, then the
// last-chunk and an empty trailer section.
func chunkedBody(n, size int) []byte {
	var b bytes.Buffer
	for range n {
		fmt.Fprintf(&b, "%x\r\n", size)
		b.Write(bytes.Repeat([]byte{'d'}, size))
		b.WriteString("\r\n")
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// BenchmarkChunkScanner scans a 64 KiB body made of 4 KiB chunks: in one
// piece, in the 16 KiB pieces the fast path's upstream reader holds, and in
// small pieces.
func BenchmarkChunkScanner(b *testing.B) {
	body := chunkedBody(16, 4096)
	for _, bc := range []struct {
		name  string
		piece int
	}{{"whole", len(body)}, {"16KiB", 16 << 10}, {"1KiB", 1 << 10}} {
		b.Run(bc.name, func(b *testing.B) {
			var s chunkScanner
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				s.reset()
				for p := body; len(p) > 0; p = p[min(len(p), bc.piece):] {
					if _, _, err := s.scan(p[:min(len(p), bc.piece)]); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// FuzzChunkScanner checks the scanner against net/http on arbitrary input
// cut into arbitrary pieces (see checkAgainstNetHTTP).
func FuzzChunkScanner(f *testing.F) {
	for _, tc := range chunkCases() {
		if input := tc.body + tc.after; len(input) < 1000 {
			f.Add([]byte(input), []byte{1})
			f.Add([]byte(input), []byte{3, 0, 7})
		}
	}
	// Inputs the fuzzer found interesting: bare LF where net/http accepts it,
	// a space before the colon, a size whose doubling overflows net/http's
	// framing count, and stray CRs.
	for _, input := range []string{
		"0\r\n\n\r\n\r\n",
		"0\r\nX:\nX:\r\n\r\n",
		"0\r\n0 :\n0 :\r\n\r\n",
		"0\r\n:\n 0\t\n\r\n\r\n",
		"7000000000000000\r\n",
		"0\r\n\r\r\r\n\r\n",
		"1  \t\r\n0\r\n00\t\r\n",
		"1;\r\n0\r\n1;\r\n0\r\n0;",
	} {
		f.Add([]byte(input), []byte{2})
	}
	f.Fuzz(func(t *testing.T, input, cuts []byte) {
		checkAgainstNetHTTP(t, input, cuts)
	})
}

// FuzzChunkScannerBodies checks the scanner against net/http on well-formed
// bodies built from fuzz-chosen chunks, extensions and trailers, followed by
// more bytes and possibly with one byte changed. Arbitrary input rarely gets
// the chunk sizes right, so this explores multi-chunk bodies, where the
// counting of chunk-data matters, far better than FuzzChunkScanner does.
func FuzzChunkScannerBodies(f *testing.F) {
	f.Add([]byte{0, 1, 2}, []byte("hello, world"), uint16(0), byte(0), []byte{5})
	f.Add([]byte{0x21, 0x42, 0x63, 0x84, 0xa5, 0xc6, 0xe7}, []byte("0\r\n\r\n"), uint16(0), byte(0), []byte{1})
	f.Add([]byte{0x1f, 0xa0, 0xa1}, []byte("\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n"), uint16(9), byte('\n'), []byte{2, 0})
	// Inputs the fuzzer found interesting: an LF or a ';' written over
	// framing bytes.
	f.Add([]byte("z8C\xb3\xb3\xb3\xb3\xb3b"), []byte("0"), uint16(114), byte('\n'), []byte("0"))
	f.Add([]byte("cC9c\x00\x00\x00\xbc\xa0\xbc\xa0"), []byte("0"), uint16(106), byte('\n'), []byte("0"))
	f.Add([]byte("001000000000000000000000000000000000000000"), []byte("0"), uint16(86), byte(';'), []byte("0"))
	f.Fuzz(func(t *testing.T, layout, data []byte, at uint16, to byte, cuts []byte) {
		body := buildChunked(layout, data)
		input := append(body, data...)
		if at == 0 {
			if got := scanPieces(input, nil); !got.done || got.n != len(body) {
				t.Fatalf("well-formed body %q: n=%d done=%v err=%v", body, got.n, got.done, got.err)
			}
		} else {
			input[int(at-1)%len(input)] = to
		}
		checkAgainstNetHTTP(t, input, cuts)
	})
}

// buildChunked builds a well-formed chunked body, one chunk or trailer field
// per byte of layout; data supplies the chunk-data, cyclically. The low five
// bits of a layout byte give the chunk's size less one, and the top three
// how its size line is written or, for 5, that it is a trailer field instead.
func buildChunked(layout, data []byte) []byte {
	var body, trailers bytes.Buffer
	next := 0
	for i, b := range layout {
		size := int(b&31) + 1
		switch b >> 5 {
		case 0:
			fmt.Fprintf(&body, "%x\r\n", size)
		case 1:
			fmt.Fprintf(&body, "%x;a=b;c\r\n", size)
		case 2:
			fmt.Fprintf(&body, "%x;q=\"%x;\\\" \"\r\n", size, i)
		case 3:
			fmt.Fprintf(&body, "%x \t\r\n", size)
		case 4:
			fmt.Fprintf(&body, "00%X\r\n", size)
		case 5:
			fmt.Fprintf(&trailers, "X-%d: v %x\r\n", i, size)
			continue
		case 6:
			fmt.Fprintf(&body, "%x;\r\n", size)
		default:
			fmt.Fprintf(&body, "%x;\x80\xff\r\n", size)
		}
		for range size {
			if len(data) == 0 {
				body.WriteByte('d')
				continue
			}
			body.WriteByte(data[next%len(data)])
			next++
		}
		body.WriteString("\r\n")
	}
	body.WriteString("0\r\n")
	body.Write(trailers.Bytes())
	body.WriteString("\r\n")
	return body.Bytes()
}

// checkAgainstNetHTTP checks the scanner against net/http on input, scanned
// in one piece, byte by byte and in pieces of the sizes in cuts, which must
// all give the same result. Where the scanner finds the body to end, net/http
// must read it, trailers included, without error and leave exactly the rest
// of the input unread. Where net/http reads the body without error, the
// scanner must find it to end at the same byte, or refuse it for one of the
// reasons it is documented to be stricter than net/http.
func checkAgainstNetHTTP(t *testing.T, input, cuts []byte) {
	t.Helper()
	sizes := make([]int, len(cuts))
	for i, c := range cuts {
		sizes[i] = int(c)
	}
	got := scanPieces(input, nil)
	for _, other := range []scanResult{scanPieces(input, []int{1}), scanPieces(input, sizes)} {
		if !sameResult(got, other) {
			t.Fatalf("depends on pieces: n=%d done=%v err=%v in one piece, n=%d done=%v err=%v in pieces %v",
				got.n, got.done, got.err, other.n, other.done, other.err, sizes)
		}
	}
	end, err := netHTTPChunkedEnd(input, oracleBufSize)
	switch {
	case got.done && err != nil:
		t.Fatalf("scanner ends at %d, net/http fails: %v", got.n, err)
	case got.done && end != got.n:
		t.Fatalf("scanner ends at %d, net/http at %d", got.n, end)
	case err == nil && got.err == nil && !got.done:
		t.Fatalf("net/http ends at %d, scanner wants more", end)
	case err == nil && got.err != nil && !stricterThanNetHTTP(got.err, input[:end]):
		t.Fatalf("net/http ends at %d, scanner fails: %v", end, got.err)
	}
}
