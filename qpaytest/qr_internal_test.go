package qpaytest

import (
	"bufio"
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The golden symbols in testdata/qr were made by the npm package qrcode
// (testdata/qr/gen.js): an independent encoder, same version, level M and
// mask. Every module must match, for versions with one and two block
// groups, with and without version information.
func TestQRMatchesIndependentEncoder(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/qr/v*.txt")
	if err != nil || len(files) < 8 {
		t.Fatalf("golden files: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(bytes.NewReader(b))
			sc.Buffer(nil, 1<<20)
			sc.Scan()
			head := strings.Fields(sc.Text())
			v, _ := strconv.Atoi(head[0])
			mask, _ := strconv.Atoi(head[1])
			n, _ := strconv.Atoi(head[2])
			text := string(b[len(sc.Text())+1:][:n])
			rows := strings.Split(strings.TrimSpace(string(b[len(sc.Text())+1+n+1:])), "\n")
			q := encodeQRWith([]byte(text), v, mask)
			if q.size != len(rows) {
				t.Fatalf("size %d, golden %d", q.size, len(rows))
			}
			for y, row := range rows {
				for x, c := range row {
					if q.isDark(x, y) != (c == '1') {
						t.Fatalf("module (%d,%d) differs from the independent encoder", x, y)
					}
				}
			}
		})
	}
}

// The block table agrees with the symbol geometry: every version's
// codewords fill exactly the modules left for them.
func TestQRBlockTable(t *testing.T) {
	t.Parallel()
	for v := 1; v <= 40; v++ {
		b := qrBlocksM[v-1]
		total := b[1]*(b[2]+b[0]) + b[3]*(b[2]+1+b[0])
		if total != qrRawModules(v)/8 {
			t.Errorf("version %d: %d codewords in the table, %d in the symbol", v, total, qrRawModules(v)/8)
		}
		q := &qrCode{version: v, size: 4*v + 17}
		q.dark = make([]bool, q.size*q.size)
		q.function = make([]bool, q.size*q.size)
		q.drawFunctionPatterns()
		free := 0
		for _, f := range q.function {
			if !f {
				free++
			}
		}
		if free != qrRawModules(v) {
			t.Errorf("version %d: %d modules free of function patterns, want %d", v, free, qrRawModules(v))
		}
	}
	if qrDataCodewords(1) != 16 || qrDataCodewords(40) != 2334 {
		t.Fatalf("capacities %d %d", qrDataCodewords(1), qrDataCodewords(40))
	}
}

// encodeQR takes the smallest version that holds the text and the mask
// with the lowest penalty.
func TestQRChoosesVersionAndMask(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n, version int
	}{{1, 1}, {14, 1}, {15, 2}, {120, 7}, {122, 7}, {123, 8}, {213, 10}, {2331, 40}} {
		text := bytes.Repeat([]byte{'a'}, tc.n)
		q, err := encodeQR(text)
		if err != nil || q.version != tc.version {
			t.Fatalf("%d bytes: version %v (%v), want %d", tc.n, q, err, tc.version)
		}
		for m := range 8 {
			if p := encodeQRWith(text, tc.version, m).penalty(); p < q.penalty() {
				t.Fatalf("%d bytes: mask %d scores %d, below the chosen mask %d's %d", tc.n, m, p, q.mask, q.penalty())
			}
		}
	}
	if _, err := encodeQR(bytes.Repeat([]byte{'a'}, 2332)); err != errQRTooLong {
		t.Fatalf("2332 bytes: %v", err)
	}
}

// The PNG is the symbol: requested size, white quiet zone, one square of
// pixels per module.
func TestQRPNG(t *testing.T) {
	t.Parallel()
	const text = "http://127.0.0.1:8080/QPay.WebPaySite/Bridge/PayCard?TD=NA024901000001&TK=3f2a9c1e-6b7d-4e1f-8a2b-0c9d8e7f6a5b"
	for _, px := range []int{350, 512, 800, 10} {
		b, err := qrPNG(text, px)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		q, _ := encodeQR([]byte(text))
		modules := q.size + 8
		scale := max(px/modules, 1)
		want := max(px, modules*scale)
		if r := img.Bounds(); r.Dx() != want || r.Dy() != want {
			t.Fatalf("%d px asked: %v", px, r)
		}
		off := (want-modules*scale)/2 + 4*scale
		dark := func(x, y int) bool {
			r, _, _, _ := img.At(x, y).RGBA()
			return r < 0x8000
		}
		for y := -4; y < q.size+4; y++ {
			for x := -4; x < q.size+4; x++ {
				want := x >= 0 && y >= 0 && x < q.size && y < q.size && q.isDark(x, y)
				if got := dark(off+x*scale+scale/2, off+y*scale+scale/2); got != want {
					t.Fatalf("%d px: module (%d,%d) is %v in the PNG", px, x, y, got)
				}
			}
		}
	}
}
