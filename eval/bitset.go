package eval

import (
	"math/bits"
	"strconv"
	"unsafe"
)

// bitset is a growable set of small non-negative integers.
type bitset []uint64

func (b bitset) grow(n int) bitset {
	if need := (n + 63) / 64; len(b) < need {
		b = append(b, make([]uint64, need-len(b))...)
	}
	return b
}

func (b bitset) set(i int) { b[i/64] |= 1 << (uint(i) % 64) }

func (b bitset) has(i int) bool {
	w := i / 64
	return w < len(b) && b[w]&(1<<(uint(i)%64)) != 0
}

// each calls f for every member in ascending order.
func (b bitset) each(f func(int)) {
	for w, word := range b {
		for word != 0 {
			t := bits.TrailingZeros64(word)
			f(w*64 + t)
			word &^= 1 << uint(t)
		}
	}
}

// key returns the set's bytes as a map key.
func (b bitset) key() string {
	if len(b) == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), len(b)*8))
}

func itoa(i int) string { return strconv.Itoa(i) }
