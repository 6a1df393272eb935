package qpaytest

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
)

// A QR code encoder (ISO/IEC 18004) for the QR code image of the payment
// pages: byte mode, error correction level M (15 % of the symbol can be
// damaged), the smallest version 1–40 that holds the text, and the mask
// of the standard's lowest penalty. That is all a payment URL needs, in a
// few hundred lines and no dependency of the root module; the tests
// compare its symbols module for module with an independent encoder's
// (testdata/qr) and its block table with the symbol geometry.

// qrCode is one QR code symbol: size×size modules, row-major.
type qrCode struct {
	version, size, mask int
	dark                []bool
	function            []bool // finder, timing, alignment, format and version modules
}

func (q *qrCode) isDark(x, y int) bool { return q.dark[y*q.size+x] }

// qrBlocksM is, for level M and each version (index version-1): the
// error correction codewords per block, the number of blocks in group 1
// and their data codewords, and the number of blocks in group 2 (each
// with one data codeword more).
var qrBlocksM = [40][4]int{
	{10, 1, 16, 0}, {16, 1, 28, 0}, {26, 1, 44, 0}, {18, 2, 32, 0}, {24, 2, 43, 0},
	{16, 4, 27, 0}, {18, 4, 31, 0}, {22, 2, 38, 2}, {22, 3, 36, 2}, {26, 4, 43, 1},
	{30, 1, 50, 4}, {22, 6, 36, 2}, {22, 8, 37, 1}, {24, 4, 40, 5}, {24, 5, 41, 5},
	{28, 7, 45, 3}, {28, 10, 46, 1}, {26, 9, 43, 4}, {26, 3, 44, 11}, {26, 3, 41, 13},
	{26, 17, 42, 0}, {28, 17, 46, 0}, {28, 4, 47, 14}, {28, 6, 45, 14}, {28, 8, 47, 13},
	{28, 19, 46, 4}, {28, 22, 45, 3}, {28, 3, 45, 23}, {28, 21, 45, 7}, {28, 19, 47, 10},
	{28, 2, 46, 29}, {28, 10, 46, 23}, {28, 14, 46, 21}, {28, 14, 46, 23}, {28, 12, 47, 26},
	{28, 6, 47, 34}, {28, 29, 46, 14}, {28, 13, 46, 32}, {28, 40, 47, 7}, {28, 18, 47, 31},
}

// qrDataCodewords is the data capacity of version v at level M.
func qrDataCodewords(v int) int {
	b := qrBlocksM[v-1]
	return b[1]*b[2] + b[3]*(b[2]+1)
}

// qrRawModules is the number of modules of version v that hold codewords
// (data and error correction), remainder bits included.
func qrRawModules(v int) int {
	n := (16*v+128)*v + 64
	if v >= 2 {
		align := v/7 + 2
		n -= (25*align-10)*align - 55
		if v >= 7 {
			n -= 36
		}
	}
	return n
}

var errQRTooLong = errors.New("qpaytest: text too long for a QR code")

// encodeQR encodes text in byte mode at level M with the best mask.
func encodeQR(text []byte) (*qrCode, error) {
	for v := 1; v <= 40; v++ {
		if qrFits(len(text), v) {
			best := (*qrCode)(nil)
			bestPenalty := 0
			for mask := range 8 {
				q := encodeQRWith(text, v, mask)
				if p := q.penalty(); best == nil || p < bestPenalty {
					best, bestPenalty = q, p
				}
			}
			return best, nil
		}
	}
	return nil, errQRTooLong
}

func qrCountBits(v int) int {
	if v <= 9 {
		return 8
	}
	return 16
}

func qrFits(n, v int) bool {
	return n < 1<<qrCountBits(v) && 4+qrCountBits(v)+8*n <= 8*qrDataCodewords(v)
}

// encodeQRWith builds the symbol of text for version v (which must hold
// it) and mask.
func encodeQRWith(text []byte, v, mask int) *qrCode {
	// The bit stream: mode 0100, the count, the bytes, a terminator of up
	// to 4 zeros, zeros to a byte boundary, then the pad bytes.
	capacity := qrDataCodewords(v)
	var bits qrBits
	bits.put(0b0100, 4)
	bits.put(len(text), qrCountBits(v))
	for _, b := range text {
		bits.put(int(b), 8)
	}
	bits.put(0, min(4, capacity*8-bits.n))
	bits.put(0, (8-bits.n%8)%8)
	data := bits.b
	for pad := 0xEC; len(data) < capacity; pad ^= 0xEC ^ 0x11 {
		data = append(data, byte(pad))
	}

	q := &qrCode{version: v, size: 4*v + 17, mask: mask}
	q.dark = make([]bool, q.size*q.size)
	q.function = make([]bool, q.size*q.size)
	q.drawFunctionPatterns()
	q.drawCodewords(qrInterleave(data, v))
	q.applyMask()
	q.drawFormat()
	return q
}

// qrBits is a big-endian bit stream.
type qrBits struct {
	b []byte
	n int
}

func (w *qrBits) put(v, count int) {
	for i := count - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		if v>>i&1 != 0 {
			w.b[len(w.b)-1] |= 0x80 >> (w.n % 8)
		}
		w.n++
	}
}

// qrInterleave splits data into the blocks of version v, adds each
// block's Reed–Solomon codewords and interleaves them: the data
// codewords column by column, then the error correction codewords.
func qrInterleave(data []byte, v int) []byte {
	b := qrBlocksM[v-1]
	ec := b[0]
	divisor := rsDivisor(ec)
	var blocks, eccs [][]byte
	k := 0
	for i := range b[1] + b[3] {
		n := b[2]
		if i >= b[1] {
			n++
		}
		blk := data[k : k+n]
		k += n
		blocks = append(blocks, blk)
		eccs = append(eccs, rsRemainder(blk, divisor))
	}
	out := make([]byte, 0, qrRawModules(v)/8)
	for i := range b[2] + 1 {
		for _, blk := range blocks {
			if i < len(blk) {
				out = append(out, blk[i])
			}
		}
	}
	for i := range ec {
		for _, e := range eccs {
			out = append(out, e[i])
		}
	}
	return out
}

// gfMul multiplies in GF(2⁸) modulo x⁸+x⁴+x³+x²+1 (0x11D).
func gfMul(x, y byte) byte {
	z := 0
	for i := 7; i >= 0; i-- {
		z = z<<1 ^ (z>>7)*0x11D
		z ^= int(y>>i&1) * int(x)
	}
	return byte(z)
}

// rsDivisor is the generator polynomial of degree n (its coefficients
// from the highest power down, the leading 1 left out).
func rsDivisor(n int) []byte {
	r := make([]byte, n)
	r[n-1] = 1
	root := byte(1)
	for range n {
		for j := range r {
			r[j] = gfMul(r[j], root)
			if j+1 < n {
				r[j] ^= r[j+1]
			}
		}
		root = gfMul(root, 2)
	}
	return r
}

// rsRemainder is the Reed–Solomon error correction of data.
func rsRemainder(data, divisor []byte) []byte {
	r := make([]byte, len(divisor))
	for _, b := range data {
		f := b ^ r[0]
		copy(r, r[1:])
		r[len(r)-1] = 0
		for i := range r {
			r[i] ^= gfMul(divisor[i], f)
		}
	}
	return r
}

func (q *qrCode) setFunction(x, y int, dark bool) {
	q.dark[y*q.size+x] = dark
	q.function[y*q.size+x] = true
}

func (q *qrCode) drawFunctionPatterns() {
	n := q.size
	for i := range n {
		q.setFunction(6, i, i%2 == 0)
		q.setFunction(i, 6, i%2 == 0)
	}
	for _, c := range [][2]int{{3, 3}, {n - 4, 3}, {3, n - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if 0 <= x && x < n && 0 <= y && y < n {
					d := max(abs(dx), abs(dy))
					q.setFunction(x, y, d != 2 && d != 4)
				}
			}
		}
	}
	pos := q.alignmentPositions()
	last := len(pos) - 1
	for i, y := range pos {
		for j, x := range pos {
			if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) {
				continue // the finder patterns' corners
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					q.setFunction(x+dx, y+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	q.drawFormat() // reserved now, written after masking
	if v := q.version; v >= 7 {
		rem := v
		for range 12 {
			rem = rem<<1 ^ (rem>>11)*0x1F25
		}
		bits := v<<12 | rem
		for i := range 18 {
			dark := bits>>i&1 != 0
			a, b := n-11+i%3, i/3
			q.setFunction(a, b, dark)
			q.setFunction(b, a, dark)
		}
	}
}

// alignmentPositions are the centre coordinates of the alignment
// patterns of the version.
func (q *qrCode) alignmentPositions() []int {
	v := q.version
	if v == 1 {
		return nil
	}
	count := v/7 + 2
	step := (v*8 + count*3 + 5) / (count*4 - 4) * 2
	pos := make([]int, count)
	pos[0] = 6
	for i, p := count-1, q.size-7; i >= 1; i, p = i-1, p-step {
		pos[i] = p
	}
	return pos
}

// drawFormat writes the format information (level M, the mask) twice.
func (q *qrCode) drawFormat() {
	data := 0<<3 | q.mask // level M's bits are 00
	rem := data
	for range 10 {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	bits := (data<<10 | rem) ^ 0x5412
	bit := func(i int) bool { return bits>>i&1 != 0 }
	n := q.size
	for i := range 6 {
		q.setFunction(8, i, bit(i))
	}
	q.setFunction(8, 7, bit(6))
	q.setFunction(8, 8, bit(7))
	q.setFunction(7, 8, bit(8))
	for i := 9; i < 15; i++ {
		q.setFunction(14-i, 8, bit(i))
	}
	for i := range 8 {
		q.setFunction(n-1-i, 8, bit(i))
	}
	for i := 8; i < 15; i++ {
		q.setFunction(8, n-15+i, bit(i))
	}
	q.setFunction(8, n-8, true) // the dark module
}

// drawCodewords places the codewords in the zigzag of two-module columns
// from the bottom right, skipping the vertical timing pattern.
func (q *qrCode) drawCodewords(cw []byte) {
	n := q.size
	i := 0
	for right := n - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		up := (right+1)&2 == 0
		for vert := range n {
			y := vert
			if up {
				y = n - 1 - vert
			}
			for j := range 2 {
				x := right - j
				if !q.function[y*n+x] && i < len(cw)*8 {
					q.dark[y*n+x] = cw[i>>3]>>(7-i&7)&1 != 0
					i++
				}
			}
		}
	}
}

func (q *qrCode) applyMask() {
	n := q.size
	for y := range n {
		for x := range n {
			if q.function[y*n+x] {
				continue
			}
			var flip bool
			switch q.mask {
			case 0:
				flip = (x+y)%2 == 0
			case 1:
				flip = y%2 == 0
			case 2:
				flip = x%3 == 0
			case 3:
				flip = (x+y)%3 == 0
			case 4:
				flip = (x/3+y/2)%2 == 0
			case 5:
				flip = x*y%2+x*y%3 == 0
			case 6:
				flip = (x*y%2+x*y%3)%2 == 0
			case 7:
				flip = ((x+y)%2+x*y%3)%2 == 0
			}
			if flip {
				q.dark[y*n+x] = !q.dark[y*n+x]
			}
		}
	}
}

// penalty is the standard's score of the masked symbol: runs of five or
// more modules of one colour, 2×2 blocks, finder-like patterns in rows
// and columns (the quiet zone counting as light), and the dark share's
// distance from half.
func (q *qrCode) penalty() int {
	n := q.size
	p := 0
	at := func(x, y int, transpose bool) bool {
		if transpose {
			x, y = y, x
		}
		if x < 0 || y < 0 || x >= n || y >= n {
			return false
		}
		return q.isDark(x, y)
	}
	finder := []bool{true, false, true, true, true, false, true}
	for _, t := range []bool{false, true} {
		for y := range n {
			run := 1
			for x := 1; x <= n; x++ {
				if x < n && at(x, y, t) == at(x-1, y, t) {
					run++
					continue
				}
				if run >= 5 {
					p += 3 + run - 5
				}
				run = 1
			}
			for x := -4; x < n; x++ {
				match := true
				for k, d := range finder {
					if at(x+k, y, t) != d {
						match = false
						break
					}
				}
				if !match {
					continue
				}
				light := func(from int) bool {
					for k := from; k < from+4; k++ {
						if at(k, y, t) {
							return false
						}
					}
					return true
				}
				if light(x - 4) {
					p += 40
				}
				if light(x + 7) {
					p += 40
				}
			}
		}
	}
	dark := 0
	for y := range n {
		for x := range n {
			c := q.isDark(x, y)
			if c {
				dark++
			}
			if x+1 < n && y+1 < n && c == q.isDark(x+1, y) && c == q.isDark(x, y+1) && c == q.isDark(x+1, y+1) {
				p += 3
			}
		}
	}
	total := n * n
	k := (abs(dark*20-total*10)+total-1)/total - 1
	return p + k*10
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// qrPNG renders text as a QR code PNG of px×px pixels (at least the
// symbol with its 4-module quiet zone at one pixel a module), black on
// white, the symbol centred at the largest whole number of pixels a
// module.
func qrPNG(text string, px int) ([]byte, error) {
	q, err := encodeQR([]byte(text))
	if err != nil {
		return nil, err
	}
	modules := q.size + 8
	scale := max(px/modules, 1)
	px = max(px, modules*scale)
	img := image.NewPaletted(image.Rect(0, 0, px, px), color.Palette{color.White, color.Black})
	off := (px-modules*scale)/2 + 4*scale
	for y := range q.size {
		for x := range q.size {
			if !q.isDark(x, y) {
				continue
			}
			for dy := range scale {
				row := img.Pix[(off+y*scale+dy)*img.Stride:]
				for dx := range scale {
					row[off+x*scale+dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
