package sinopac

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// decodeHex agrees with hex.Decode on every byte value at every position
// of an eight-digit block, and on whole messages.
func TestDecodeHex(t *testing.T) {
	src := []byte("0123456789abcdefABCDEF00ffFF9a7B")
	for pos := range 16 {
		for c := range 256 {
			in := bytes.Clone(src[:16])
			in[pos] = byte(c)
			want := make([]byte, 8)
			_, err := hex.Decode(want, in)
			got := make([]byte, 8)
			ok := decodeHex(got, in)
			if ok != (err == nil) || ok && !bytes.Equal(got, want) {
				t.Fatalf("decodeHex(%q) = %x, %v; hex.Decode %x, %v", in, got, ok, want, err)
			}
		}
	}
	for n := 0; n <= len(src); n += 2 {
		want, _ := hex.DecodeString(string(src[:n]))
		got := make([]byte, n/2)
		if !decodeHex(got, src[:n]) || !bytes.Equal(got, want) {
			t.Fatalf("decodeHex(%q) = %x, want %x", src[:n], got, want)
		}
	}
}

func FuzzDecodeHex(f *testing.F) {
	f.Add([]byte("0123456789abcdefABCDEF"))
	f.Add([]byte("0123456G89abcdef"))
	f.Fuzz(func(t *testing.T, src []byte) {
		src = src[:len(src)&^1]
		want := make([]byte, len(src)/2)
		_, err := hex.Decode(want, src)
		got := make([]byte, len(src)/2)
		ok := decodeHex(got, src)
		if ok != (err == nil) || ok && !bytes.Equal(got, want) {
			t.Fatalf("decodeHex(%q) = %x, %v; hex.Decode %x, %v", src, got, ok, want, err)
		}
	})
}
