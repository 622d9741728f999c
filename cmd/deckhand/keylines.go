package main

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// keyLines maps every key path of a TOML document ("hosts[1].address",
// "discord.roles.123") to the line it is written on, so that validation
// errors found after decoding can still point at a line.
func keyLines(raw []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(raw)
	arrayCount := map[string]int{}
	table := ""
	for p.NextExpression() {
		expr := p.Expression()
		switch expr.Kind {
		case unstable.Table, unstable.ArrayTable:
			name := joinKey(expr.Key())
			if expr.Kind == unstable.ArrayTable {
				n := arrayCount[name]
				arrayCount[name] = n + 1
				// Nested array tables are rare in this file; index the last segment.
				name = fmt.Sprintf("%s[%d]", name, n)
			}
			table = name
			lines[table] = lineOf(&p, expr)
		case unstable.KeyValue:
			key := joinKey(expr.Key())
			if table != "" {
				key = table + "." + key
			}
			lines[key] = lineOf(&p, expr)
		}
	}
	return lines
}

func joinKey(it unstable.Iterator) string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}

func lineOf(p *unstable.Parser, n *unstable.Node) int {
	for _, c := range []*unstable.Node{n, n.Child()} {
		if c != nil && c.Raw.Length > 0 {
			return p.Shape(c.Raw).Start.Line
		}
	}
	it := n.Key()
	if it.Next() && it.Node().Raw.Length > 0 {
		return p.Shape(it.Node().Raw).Start.Line
	}
	return 0
}

// lineFor finds the line of a key path, falling back to its closest
// enclosing table.
func lineFor(lines map[string]int, key string) int {
	for key != "" {
		if l, ok := lines[key]; ok {
			return l
		}
		i := strings.LastIndexAny(key, ".")
		if j := strings.LastIndex(key, "["); j > i && strings.HasSuffix(key, "]") {
			// hosts[1] → hosts[1] has no enclosing table but itself; stop.
			i = -1
		}
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}
