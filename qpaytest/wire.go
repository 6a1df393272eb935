package qpaytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
)

// decodeLenient unmarshals a request's JSON into v the way the bank's
// Json.NET binds its typed models: property names in any case (encoding/json
// already matches them so), numbers sent as strings ("Staging":"3",
// "Amount":"50000"), "" for an absent number, and numbers where the model
// has a string (a PHP client's integer OrderNo, a Java client's integer
// ExpireDate). A value no model property could hold is an error.
func decodeLenient(b []byte, v any) error {
	b, err := normalize(b, reflect.TypeOf(v))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

var errNotInt = errors.New("qpaytest: not an integer")

// normalize rewrites the JSON value b for a Go value of type t: numbers in
// strings become numbers for integer fields ("" becomes null), numbers
// become strings for string fields, recursively through structs.
func normalize(b []byte, t reflect.Type) ([]byte, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return b, nil
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if b[0] != '"' {
			return b, nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return []byte("null"), nil
		}
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return nil, errNotInt
		}
		return []byte(s), nil
	case reflect.String:
		if b[0] == '-' || ('0' <= b[0] && b[0] <= '9') {
			return strconv.AppendQuote(nil, string(b)), nil
		}
		return b, nil
	case reflect.Struct:
		if b[0] != '{' {
			return b, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		for k, raw := range m {
			f, ok := fieldFold(t, k)
			if !ok {
				continue
			}
			nb, err := normalize(raw, f.Type)
			if err != nil {
				return nil, err
			}
			m[k] = nb
		}
		return json.Marshal(m)
	}
	return b, nil
}

// fieldFold finds the field of struct type t that the JSON name binds to:
// an exact match first, else one equal ignoring case.
func fieldFold(t reflect.Type, name string) (reflect.StructField, bool) {
	var fold reflect.StructField
	found := false
	for i := range t.NumField() {
		f := t.Field(i)
		n := f.Name
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" {
			n = tag
		}
		if n == name {
			return f, true
		}
		if !found && strings.EqualFold(n, name) {
			fold, found = f, true
		}
	}
	return fold, found
}
