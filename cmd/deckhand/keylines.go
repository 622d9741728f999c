package main

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// scanConfig walks a TOML document once before it is decoded. It records
// the line of every key path ("hosts[1].address", "discord.roles.123") so
// that errors found later still point at a line, and checks every key and
// value against the field of fileConfig it lands in. go-toml reports only
// the first mistake, names Go types in it and gives no position for a
// number where a duration belongs; this reports them all in config terms.
func scanConfig(raw []byte) (map[string]int, configErrors) {
	s := scanner{lines: map[string]int{}, arrays: map[string]int{}}
	s.p.Reset(raw)
	table, tableType := "", reflect.TypeFor[fileConfig]()
	for s.p.NextExpression() {
		expr := s.p.Expression()
		line := s.lineOf(expr, 0)
		switch expr.Kind {
		case unstable.Table, unstable.ArrayTable:
			table, tableType = s.header(expr, line)
		case unstable.KeyValue:
			if tableType == nil {
				continue // the table header was reported already
			}
			key, t, ok := s.walk(table, tableType, expr.Key(), line)
			if ok {
				s.value(key, expr.Value(), t, line)
			}
		}
	}
	if err := s.p.Error(); err != nil {
		s.errs = append(s.errs, s.syntaxError(err))
	}
	return s.lines, s.errs
}

type scanner struct {
	p      unstable.Parser
	lines  map[string]int
	arrays map[string]int // elements seen so far of each array of tables
	errs   configErrors
}

func (s *scanner) bad(key string, line int, format string, args ...any) {
	s.errs = append(s.errs, configError{Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// header resolves a [table] or [[array.table]] and returns its key path
// and type; a nil type when the header itself is a mistake.
func (s *scanner) header(expr *unstable.Node, line int) (string, reflect.Type) {
	it := expr.Key()
	path, t := "", reflect.TypeFor[fileConfig]()
	for it.Next() {
		part := string(it.Node().Data)
		ft, ok := s.child(path, t, part, line)
		if !ok {
			return "", nil
		}
		path = join(path, part)
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			n := s.arrays[path]
			if it.IsLast() {
				if expr.Kind != unstable.ArrayTable {
					s.bad(path, line, "want [[%s]] (an array of tables), got a table", path)
					return "", nil
				}
				s.arrays[path] = n + 1
			} else {
				n-- // [hosts.x] after [[hosts]] belongs to the last host
			}
			path = fmt.Sprintf("%s[%d]", path, max(n, 0))
			ft = ft.Elem()
		} else if it.IsLast() && expr.Kind == unstable.ArrayTable {
			s.bad(path, line, "want [%s] (a table), got an array of tables", path)
			return "", nil
		}
		if k := ft.Kind(); k != reflect.Struct && k != reflect.Map {
			s.bad(path, line, "want %s, got a table", want(ft))
			return "", nil
		}
		t = ft
	}
	s.lines[path] = line
	return path, t
}

// walk follows a (possibly dotted) key from the table at path.
func (s *scanner) walk(path string, t reflect.Type, it unstable.Iterator, line int) (string, reflect.Type, bool) {
	for it.Next() {
		part := string(it.Node().Data)
		if k := t.Kind(); k != reflect.Struct && k != reflect.Map {
			s.bad(path, line, "want %s, got a table", want(t))
			return "", nil, false
		}
		ft, ok := s.child(path, t, part, line)
		if !ok {
			return "", nil, false
		}
		path, t = join(path, part), ft
	}
	return path, t, true
}

// child is the type of key part inside t (a struct or a map), dereferenced.
func (s *scanner) child(path string, t reflect.Type, part string, line int) (reflect.Type, bool) {
	if t.Kind() == reflect.Map {
		return deref(t.Elem()), true
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("toml"), ","); name == part && f.IsExported() {
			return deref(f.Type), true
		}
	}
	s.bad(join(path, part), line, "unknown key (check the spelling against config.toml.example)")
	return nil, false
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// value checks one value node against the type it decodes into.
func (s *scanner) value(key string, n *unstable.Node, t reflect.Type, line int) {
	line = s.lineOf(n, line)
	s.lines[key] = line
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		if n.Kind != unstable.String {
			s.bad(key, line, "want %s, got %s", want(t), got(n.Kind))
			return
		}
		// The same parse the decoder runs next; here it gets a line.
		v := reflect.New(t).Interface().(encoding.TextUnmarshaler)
		if err := v.UnmarshalText(n.Data); err != nil {
			s.bad(key, line, "%v", err)
		}
		return
	}
	switch t.Kind() {
	case reflect.String:
		s.expect(key, line, n, t, unstable.String)
	case reflect.Bool:
		s.expect(key, line, n, t, unstable.Bool)
	case reflect.Int, reflect.Int64:
		if s.expect(key, line, n, t, unstable.Integer) {
			if _, err := strconv.ParseInt(string(n.Data), 0, 64); err != nil {
				s.bad(key, line, "%s is too large", n.Data)
			}
		}
	case reflect.Slice:
		if s.expect(key, line, n, t, unstable.Array) {
			i := 0
			for it := n.Children(); it.Next(); i++ {
				s.value(fmt.Sprintf("%s[%d]", key, i), it.Node(), deref(t.Elem()), line)
			}
		}
	case reflect.Struct, reflect.Map:
		if s.expect(key, line, n, t, unstable.InlineTable) {
			for it := n.Children(); it.Next(); {
				kv := it.Node()
				l := s.lineOf(kv, line)
				if k, ft, ok := s.walk(key, t, kv.Key(), l); ok {
					s.value(k, kv.Value(), ft, l)
				}
			}
		}
	}
}

func (s *scanner) expect(key string, line int, n *unstable.Node, t reflect.Type, kind unstable.Kind) bool {
	if n.Kind == kind {
		return true
	}
	s.bad(key, line, "want %s, got %s", want(t), got(n.Kind))
	return false
}

func (s *scanner) syntaxError(err error) configError {
	var perr *unstable.ParserError
	if errors.As(err, &perr) && len(perr.Highlight) > 0 {
		shape := s.p.Shape(s.p.Range(perr.Highlight))
		return configError{Line: shape.Start.Line, Msg: perr.Message}
	}
	return configError{Msg: err.Error()}
}

func (s *scanner) lineOf(n *unstable.Node, fallback int) int {
	for _, c := range []*unstable.Node{n, n.Child()} {
		if c != nil && c.Raw.Length > 0 {
			return s.p.Shape(c.Raw).Start.Line
		}
	}
	if n.Kind == unstable.KeyValue || n.Kind == unstable.Table || n.Kind == unstable.ArrayTable {
		if it := n.Key(); it.Next() && it.Node().Raw.Length > 0 {
			return s.p.Shape(it.Node().Raw).Start.Line
		}
	}
	return fallback
}

// want says what a field takes, in the file's words.
func want(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[duration]():
		return "a duration in quotes, " + durationExamples
	case t == reflect.TypeFor[secret]():
		return "a string in quotes"
	case t == reflect.TypeFor[byteSize]():
		return "a size in quotes, " + sizeExamples
	}
	switch t.Kind() {
	case reflect.String:
		return "a string in quotes"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Slice:
		return "an array [...]"
	default:
		return "a table"
	}
}

// got names what the file holds, never the value: it may be a secret.
func got(k unstable.Kind) string {
	switch k {
	case unstable.String:
		return "a string"
	case unstable.Bool:
		return "true or false"
	case unstable.Integer, unstable.Float:
		return "a number"
	case unstable.Array:
		return "an array"
	case unstable.InlineTable:
		return "a table"
	default:
		return "a date or time"
	}
}

func deref(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

func join(path, part string) string {
	if path == "" {
		return part
	}
	return path + "." + part
}

// lineFor finds the line of a key path, falling back to the closest
// enclosing key or table that is written down.
func lineFor(lines map[string]int, key string) int {
	for key != "" {
		if l, ok := lines[key]; ok {
			return l
		}
		if strings.HasSuffix(key, "]") {
			key = key[:strings.LastIndex(key, "[")]
			continue
		}
		i := strings.LastIndex(key, ".")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}
