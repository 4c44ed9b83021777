package spool

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSegment writes records with the spool's own writer, damages the
// segment file on disk with arbitrary bytes (the whole file replaced,
// bytes overwritten at an offset, bytes appended, or the file cut short)
// and opens the spool again. Whatever the bytes:
//   - Inspect and Open count the same records and items, and Next hands
//     out exactly those, each intact (its frame, checksum included, is in
//     the file as written), in file order from the start of the file;
//   - every record the writer wrote before the first damaged byte comes
//     back intact, with its item count;
//   - the bytes after the good part are counted as one corrupt tail and
//     truncated, so that the next Open finds the file clean;
//   - a record appended after the repair comes back after the others, and
//     Remove leaves an empty spool.
//
// The seed corpus is in testdata/fuzz/FuzzSegment.
func FuzzSegment(f *testing.F) {
	f.Add([]byte("a\x00bb\x00ccc"), uint16(0), []byte{}, uint8(2))
	f.Add([]byte("a\x00bb\x00ccc"), uint16(20), []byte("\xff\xff\xff\x7f"), uint8(1))
	f.Add([]byte("a\x00bb\x00ccc"), uint16(14), []byte{}, uint8(3))
	f.Add([]byte{}, uint16(0), []byte("\x05\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00x"), uint8(0))
	f.Fuzz(func(t *testing.T, payloads []byte, at uint16, garbage []byte, mode uint8) {
		dir := t.TempDir()
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var written []Record
		for i, p := range bytes.Split(payloads, []byte{0}) {
			if i == 16 {
				break
			}
			if err := s.Append(i+1, p); err != nil {
				t.Fatal(err)
			}
			written = append(written, Record{Items: i + 1, Payload: p})
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "00000000000000000001"+suffix)
		orig, err := os.ReadFile(path)
		if err != nil && len(written) > 0 {
			t.Fatal(err)
		}
		data := damage(orig, int(at), garbage, mode)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}

		u, err := Inspect(dir)
		if err != nil {
			t.Fatal(err)
		}
		s, err = Open(dir, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		st := s.Stats()
		seg, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		var got []Record
		if seg != nil {
			got = seg.Records
		}
		var framed []byte
		items := int64(0)
		for _, r := range got {
			framed = frame(framed, r)
			items += int64(r.Items)
		}
		if !bytes.HasPrefix(data, framed) {
			t.Fatalf("the %d records handed out are not the start of the file as written", len(got))
		}
		if u.Records != int64(len(got)) || u.Items != items || st.Records != int64(len(got)) || st.Items != items {
			t.Fatalf("Inspect counts %d records, %d items; Open %d, %d; Next hands out %d, %d",
				u.Records, u.Items, st.Records, st.Items, len(got), items)
		}
		lost := int64(len(data) - len(framed))
		if st.CorruptBytes != lost || (st.CorruptRecords == 1) != (lost > 0) || st.CorruptRecords > 1 {
			t.Fatalf("got %d corrupt records, %d bytes, want %d bytes in at most one tail", st.CorruptRecords, st.CorruptBytes, lost)
		}
		if want := intactBefore(written, orig, data); len(got) < want {
			t.Fatalf("got %d records back, want at least the %d written before the damage", len(got), want)
		} else {
			for i, r := range got[:want] {
				if r.Items != written[i].Items || !bytes.Equal(r.Payload, written[i].Payload) {
					t.Fatalf("record %d: got %d:%q, want %d:%q", i, r.Items, r.Payload, written[i].Items, written[i].Payload)
				}
			}
		}
		if len(got) > 0 {
			if fi, err := os.Stat(path); err != nil || fi.Size() != int64(len(framed)) {
				t.Fatalf("segment not truncated to its %d good bytes: %v, %v", len(framed), fi, err)
			}
		}
		if err := s.Remove(seg); err != nil {
			t.Fatal(err)
		}

		// The repaired spool takes new records and hands them out after a
		// restart, with nothing more counted as corrupt.
		if err := s.Append(7, []byte("after")); err != nil {
			t.Fatal(err)
		}
		s = reopen(t, s, dir)
		seg, err = s.Next()
		if err != nil || seg == nil || len(seg.Records) != 1 || seg.Records[0].Items != 7 || string(seg.Records[0].Payload) != "after" {
			t.Fatalf("after repair: got %+v, %v, want the one record appended", seg, err)
		}
		if err := s.Remove(seg); err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); st.CorruptRecords != 0 || st.Records != 0 || st.Bytes != 0 {
			t.Fatalf("after repair and removal: %+v", st)
		}
	})
}

// damage applies one of four kinds of damage to a segment file's bytes.
func damage(orig []byte, at int, garbage []byte, mode uint8) []byte {
	data := append([]byte(nil), orig...)
	switch mode % 4 {
	case 0: // the whole file replaced
		return append([]byte(nil), garbage...)
	case 1: // bytes overwritten (the file grows when they run past its end)
		at %= len(data) + 1
		if end := at + len(garbage); end > len(data) {
			data = append(data, make([]byte, end-len(data))...)
		}
		copy(data[at:], garbage)
		return data
	case 2: // bytes appended, as a torn write leaves them
		return append(data, garbage...)
	default: // the file cut short
		return data[:at%(len(data)+1)]
	}
}

// intactBefore is how many of the written records lie wholly before the
// first byte where data differs from orig.
func intactBefore(written []Record, orig, data []byte) int {
	diff := 0
	for diff < len(orig) && diff < len(data) && orig[diff] == data[diff] {
		diff++
	}
	n, end := 0, 0
	for _, r := range written {
		end += 12 + len(r.Payload)
		if end > diff {
			break
		}
		n++
	}
	return n
}

// frame appends r as a segment file holds it, written out here from the
// format's description rather than with the spool's own encoder: length
// (4 + payload), CRC-32C of what follows it, item count, payload.
func frame(b []byte, r Record) []byte {
	body := binary.LittleEndian.AppendUint32(nil, uint32(r.Items))
	body = append(body, r.Payload...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	return append(b, body...)
}
