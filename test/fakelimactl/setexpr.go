package main

import (
	"fmt"
	"strconv"
	"strings"
)

// setOp is one step of a --set expression.
type setOp struct {
	key   string
	del   bool
	value any
}

// parseSetExpr reads `.key = LITERAL` and `del(.key)` steps joined by "|",
// where LITERAL is yq's: "string" (only \" is an escape), a number, true,
// false, null, [LITERAL, ...] or {"key": LITERAL, ...}.
func parseSetExpr(s string) ([]setOp, error) {
	p := &exprParser{s: s}
	var ops []setOp
	for {
		p.space()
		var op setOp
		switch {
		case p.take("del(."):
			op.key, op.del = p.name(), true
			if !p.take(")") {
				return nil, p.fail("want )")
			}
		case p.take("."):
			op.key = p.name()
			p.space()
			if !p.take("=") {
				return nil, p.fail("want =")
			}
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			op.value = v
		default:
			return nil, p.fail("want .key = value or del(.key)")
		}
		if op.key == "" {
			return nil, p.fail("want a key")
		}
		ops = append(ops, op)
		p.space()
		if p.i == len(p.s) {
			return ops, nil
		}
		if !p.take("|") {
			return nil, p.fail("want |")
		}
	}
}

type exprParser struct {
	s string
	i int
}

func (p *exprParser) fail(what string) error {
	return fmt.Errorf("fakelimactl: cannot read the --set expression at %d (%s): %q", p.i, what, p.s)
}

func (p *exprParser) space() {
	for p.i < len(p.s) && strings.ContainsRune(" \t\n", rune(p.s[p.i])) {
		p.i++
	}
}

func (p *exprParser) take(tok string) bool {
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *exprParser) name() string {
	j := p.i
	for j < len(p.s) && (p.s[j] == '_' || p.s[j] >= 'a' && p.s[j] <= 'z' || p.s[j] >= 'A' && p.s[j] <= 'Z' || p.s[j] >= '0' && p.s[j] <= '9') {
		j++
	}
	n := p.s[p.i:j]
	p.i = j
	return n
}

func (p *exprParser) literal() (any, error) {
	p.space()
	switch {
	case p.take(`"`):
		var b strings.Builder
		for p.i < len(p.s) {
			c := p.s[p.i]
			switch {
			case c == '"':
				p.i++
				return strings.ReplaceAll(b.String(), `\"`, `"`), nil
			case c == '\\' && p.i+1 < len(p.s):
				b.WriteString(p.s[p.i : p.i+2])
				p.i += 2
			default:
				b.WriteByte(c)
				p.i++
			}
		}
		return nil, p.fail("unterminated string")
	case p.take("["):
		list := []any{}
		err := p.items("]", func() error {
			v, err := p.literal()
			list = append(list, v)
			return err
		})
		return list, err
	case p.take("{"):
		m := map[string]any{}
		err := p.items("}", func() error {
			k, err := p.literal()
			ks, ok := k.(string)
			if err != nil || !ok {
				return p.fail("want a string key")
			}
			p.space()
			if !p.take(":") {
				return p.fail("want :")
			}
			m[ks], err = p.literal()
			return err
		})
		return m, err
	case p.take("true"):
		return true, nil
	case p.take("false"):
		return false, nil
	case p.take("null"):
		return nil, nil
	}
	j := p.i
	for j < len(p.s) && strings.ContainsRune("-0123456789.", rune(p.s[j])) {
		j++
	}
	num := p.s[p.i:j]
	if n, err := strconv.Atoi(num); err == nil {
		p.i = j
		return n, nil
	}
	if f, err := strconv.ParseFloat(num, 64); err == nil {
		p.i = j
		return f, nil
	}
	return nil, p.fail("want a value")
}

// items reads item, item, ... up to end.
func (p *exprParser) items(end string, item func() error) error {
	p.space()
	if p.take(end) {
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		p.space()
		if p.take(end) {
			return nil
		}
		if !p.take(",") {
			return p.fail("want , or " + end)
		}
	}
}
