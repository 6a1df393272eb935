package sinopac

import (
	"encoding/binary"
	"encoding/hex"
)

// decodeHex is hex.Decode for the Message of a reply, eight digits at a
// time: a 300-order page is 400 KB of hex, and the byte-by-byte decoder
// was a fifth of opening it. It reports false for a byte that is not a hex
// digit (either case), as hex.Decode fails; len(dst) must be len(src)/2.
func decodeHex(dst, src []byte) bool {
	i := 0
	for ; i+8 <= len(src); i += 8 {
		x := binary.LittleEndian.Uint64(src[i:])
		if !hexDigits8(x) {
			return false
		}
		// A digit's low nibble is its value, plus 9 for a letter (bit 6).
		v := x&0x0f0f0f0f0f0f0f0f + (x>>6&0x0101010101010101)*9
		// Pairs of nibbles (high first) into bytes, then the four bytes together.
		v = (v&0x00ff00ff00ff00ff)<<4 | v>>8&0x00ff00ff00ff00ff
		v = (v | v>>8) & 0x0000ffff0000ffff
		v = (v | v>>16) & 0xffffffff
		binary.LittleEndian.PutUint32(dst[i/2:], uint32(v))
	}
	_, err := hex.Decode(dst[i/2:], src[i:])
	return err == nil
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hexDigits8 reports whether each of the eight bytes of x is 0-9, A-F or
// a-f, without a branch per byte.
func hexDigits8(x uint64) bool {
	if x&highs != 0 {
		return false // not ASCII
	}
	lower := x | 0x2020202020202020 // A-F to a-f; digits keep their value
	return (between(x, '0', '9')|between(lower, 'a', 'f'))&highs == highs
}

// between sets the high bit of each byte of x (all below 0x80) that lies
// in [lo, hi].
func between(x uint64, lo, hi byte) uint64 {
	// Each byte plus (0x80-lo) reaches 0x80 when it is >= lo, and plus
	// (0x7f-hi) reaches 0x80 when it is > hi; no byte carries into the
	// next, as every sum stays below 0x100.
	ge := x + ones*uint64(0x80-lo)
	gt := x + ones*uint64(0x7f-hi)
	return ge &^ gt & highs
}
