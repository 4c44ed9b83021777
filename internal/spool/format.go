package spool

import (
	"encoding/binary"
	"hash/crc32"
)

// A segment file is a sequence of records, each:
//
//	length (4, little endian: 4 + len(payload))
//	CRC-32C of the next length bytes (4)
//	item count (4)
//	payload
//
// A record whose length runs past the end of the file or whose checksum
// does not match ends the good part of the file (a torn or corrupt tail).
const headerSize = 12

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const suffix = ".seg"

// appendRecord appends one framed record to b.
func appendRecord(b []byte, items int, payload []byte) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, uint32(4+len(payload)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(items))
	b = append(b, payload...)
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(b[start+8:], crcTable))
	return b
}

// scan walks the records in data, calling fn (when not nil) for each good
// one, and returns the length of the good prefix with its record and item
// counts.
func scan(data []byte, fn func(items int, payload []byte)) (good int64, recs, items int64) {
	off := 0
	for len(data)-off >= headerSize {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		sum := binary.LittleEndian.Uint32(data[off+4:])
		if n < 4 || len(data)-off-8 < n {
			break
		}
		body := data[off+8 : off+8+n]
		if crc32.Checksum(body, crcTable) != sum {
			break
		}
		cnt := int(binary.LittleEndian.Uint32(body))
		if fn != nil {
			fn(cnt, body[4:])
		}
		recs++
		items += int64(cnt)
		off += 8 + n
	}
	return int64(off), recs, items
}
