package har

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// FormatError is a HAR file kubewire cannot read: where it is and why.
type FormatError struct {
	// Entry is the index (from 0) of the entry at fault, -1 outside one.
	Entry int
	// Offset is the byte offset in the file where the problem was seen,
	// -1 when the entry is valid JSON but not a call kubewire can read.
	Offset int64
	Err    error
}

func (e *FormatError) Error() string {
	switch {
	case e.Entry >= 0 && e.Offset < 0:
		return fmt.Sprintf("entry %d: %v", e.Entry, e.Err)
	case e.Entry >= 0:
		return fmt.Sprintf("entry %d (byte %d): %v", e.Entry, e.Offset, e.Err)
	}
	return fmt.Sprintf("byte %d: %v", e.Offset, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// Decode reads a HAR file from r one entry at a time, handing each to fn
// with its index, so a file of any size is read in the memory of its
// largest entry. It returns the log without its entries. An error from fn
// stops the reading and is returned as it is; a malformed file gives a
// *FormatError.
func Decode(r io.Reader, fn func(i int, e *Entry) error) (*Log, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// Some tools (Fiddler, older Chrome) start the file with a BOM.
	skipped := int64(0)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		skipped = 3
	}
	d := &decoder{dec: json.NewDecoder(br), skipped: skipped}
	log, err := d.file(fn)
	var fe *FormatError
	if errors.As(err, &fe) {
		return log, fe
	}
	return log, err
}

type decoder struct {
	dec     *json.Decoder
	skipped int64
}

func (d *decoder) offset() int64 { return d.dec.InputOffset() + d.skipped }

func (d *decoder) fail(entry int, err error) error {
	off := d.offset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset + d.skipped
		err = fmt.Errorf("invalid JSON: %v", se)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("the file ends too early")
	}
	return &FormatError{Entry: entry, Offset: off, Err: err}
}

func (d *decoder) delim(want json.Delim, what string) error {
	t, err := d.dec.Token()
	if err != nil {
		return d.fail(-1, err)
	}
	if t != want {
		return d.fail(-1, fmt.Errorf("want %s, found %v", what, t))
	}
	return nil
}

func (d *decoder) key() (string, error) {
	t, err := d.dec.Token()
	if err != nil {
		return "", d.fail(-1, err)
	}
	k, _ := t.(string)
	return k, nil
}

func (d *decoder) skip() error {
	var raw json.RawMessage
	if err := d.dec.Decode(&raw); err != nil {
		return d.fail(-1, err)
	}
	return nil
}

func (d *decoder) file(fn func(int, *Entry) error) (*Log, error) {
	if err := d.delim('{', `a JSON object {"log": ...}: not a HAR file`); err != nil {
		return nil, err
	}
	var log *Log
	for d.dec.More() {
		k, err := d.key()
		if err != nil {
			return log, err
		}
		if k != "log" {
			if err := d.skip(); err != nil {
				return log, err
			}
			continue
		}
		log = &Log{}
		if err := d.log(log, fn); err != nil {
			return log, err
		}
	}
	if log == nil {
		return nil, d.fail(-1, errors.New(`no "log" object: not a HAR file`))
	}
	return log, d.delim('}', "the end of the file's object")
}

func (d *decoder) log(log *Log, fn func(int, *Entry) error) error {
	if err := d.delim('{', `an object for "log"`); err != nil {
		return err
	}
	entries := false
	for d.dec.More() {
		k, err := d.key()
		if err != nil {
			return err
		}
		var dst any
		switch k {
		case "version":
			dst = &log.Version
		case "creator":
			dst = &log.Creator
		case "comment":
			dst = &log.Comment
		case "_kubewire":
			dst = &log.Kubewire
		case "entries":
			entries = true
			if err := d.entries(fn); err != nil {
				return err
			}
			continue
		default:
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		if err := d.dec.Decode(dst); err != nil {
			return d.fail(-1, fmt.Errorf("log.%s: %w", k, err))
		}
	}
	if !entries {
		return d.fail(-1, errors.New(`the log has no "entries"`))
	}
	return d.delim('}', `the end of "log"`)
}

func (d *decoder) entries(fn func(int, *Entry) error) error {
	if err := d.delim('[', `an array for "entries"`); err != nil {
		return err
	}
	for i := 0; d.dec.More(); i++ {
		start := d.offset()
		var e Entry
		if err := d.dec.Decode(&e); err != nil {
			fe := d.fail(i, err).(*FormatError)
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				fe.Offset = start
				fe.Err = fmt.Errorf("%s is a JSON %s, not a %s", te.Field, te.Value, te.Type)
			}
			return fe
		}
		if err := checkEntry(&e); err != nil {
			return &FormatError{Entry: i, Offset: start, Err: err}
		}
		if err := fn(i, &e); err != nil {
			return err
		}
	}
	return d.delim(']', `the end of "entries"`)
}

// checkEntry reports what an entry lacks that an exchange needs.
func checkEntry(e *Entry) error {
	switch {
	case e.Request.Method == "":
		return errors.New("request has no method")
	case e.Request.URL == "":
		return errors.New("request has no url")
	case e.StartedDateTime == "":
		return errors.New("no startedDateTime")
	}
	return nil
}
