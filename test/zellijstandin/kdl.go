package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// kdlNode is one node of a (KDL v1 subset) document.
type kdlNode struct {
	Name     string
	Args     []string
	Props    map[string]string
	Children []*kdlNode
	Line     int
}

// prop returns the property value and whether it was set.
func (n *kdlNode) prop(key string) (string, bool) {
	v, ok := n.Props[key]
	return v, ok
}

// child returns the first child named name, or nil.
func (n *kdlNode) child(name string) *kdlNode {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// kdlParser is a small recursive-descent parser for the KDL that Zellij
// layouts use: nodes, string/bare/number/bool arguments, key=value
// properties, children blocks, //, /* */ and /- comments, raw strings and
// type annotations (ignored). Values are kept as strings.
type kdlParser struct {
	src  []rune
	pos  int
	line int
}

func parseKDL(src string) ([]*kdlNode, error) {
	p := &kdlParser{src: []rune(src), line: 1}
	nodes, err := p.nodes(false)
	if err != nil {
		return nil, err
	}
	return nodes, nil
}

func (p *kdlParser) errorf(format string, a ...any) error {
	return fmt.Errorf("line %d: %s", p.line, fmt.Sprintf(format, a...))
}

func (p *kdlParser) eof() bool { return p.pos >= len(p.src) }

func (p *kdlParser) peek() rune {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

func (p *kdlParser) peekAt(off int) rune {
	if p.pos+off >= len(p.src) {
		return 0
	}
	return p.src[p.pos+off]
}

func (p *kdlParser) next() rune {
	r := p.src[p.pos]
	p.pos++
	if r == '\n' {
		p.line++
	}
	return r
}

func isNewline(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u0085' || r == '\u000C' || r == '\u2028' || r == '\u2029'
}

func isSpace(r rune) bool { return !isNewline(r) && unicode.IsSpace(r) || r == '\uFEFF' }

// skipInline skips spaces, block comments and line continuations. It
// returns an error for an unterminated block comment.
func (p *kdlParser) skipInline() error {
	for !p.eof() {
		r := p.peek()
		switch {
		case isSpace(r):
			p.next()
		case r == '/' && p.peekAt(1) == '*':
			if err := p.blockComment(); err != nil {
				return err
			}
		case r == '\\':
			// Line continuation: "\" [ws] [// comment] newline.
			p.next()
			for !p.eof() && isSpace(p.peek()) {
				p.next()
			}
			if p.peek() == '/' && p.peekAt(1) == '/' {
				for !p.eof() && !isNewline(p.peek()) {
					p.next()
				}
			}
			if !p.eof() && isNewline(p.peek()) {
				p.next()
			}
		default:
			return nil
		}
	}
	return nil
}

func (p *kdlParser) blockComment() error {
	start := p.line
	p.pos += 2
	depth := 1
	for !p.eof() {
		if p.peek() == '/' && p.peekAt(1) == '*' {
			p.pos += 2
			depth++
			continue
		}
		if p.peek() == '*' && p.peekAt(1) == '/' {
			p.pos += 2
			depth--
			if depth == 0 {
				return nil
			}
			continue
		}
		p.next()
	}
	return fmt.Errorf("line %d: unterminated block comment", start)
}

// skipLinespace skips whitespace, newlines, semicolons and all comments.
func (p *kdlParser) skipLinespace() error {
	for !p.eof() {
		if err := p.skipInline(); err != nil {
			return err
		}
		r := p.peek()
		switch {
		case isNewline(r) || r == ';':
			p.next()
		case r == '/' && p.peekAt(1) == '/':
			for !p.eof() && !isNewline(p.peek()) {
				p.next()
			}
		default:
			return nil
		}
	}
	return nil
}

// nodes parses nodes until EOF (top level) or a closing brace (children).
func (p *kdlParser) nodes(inChildren bool) ([]*kdlNode, error) {
	var out []*kdlNode
	for {
		if err := p.skipLinespace(); err != nil {
			return nil, err
		}
		if p.eof() {
			if inChildren {
				return nil, p.errorf("unexpected end of file: missing '}'")
			}
			return out, nil
		}
		if p.peek() == '}' {
			if !inChildren {
				return nil, p.errorf("unexpected '}'")
			}
			p.next()
			return out, nil
		}
		slashdash := false
		if p.peek() == '/' && p.peekAt(1) == '-' {
			p.pos += 2
			slashdash = true
			if err := p.skipLinespace(); err != nil {
				return nil, err
			}
		}
		n, err := p.node()
		if err != nil {
			return nil, err
		}
		if !slashdash {
			out = append(out, n)
		}
	}
}

func (p *kdlParser) typeAnnotation() error {
	if p.peek() != '(' {
		return nil
	}
	for !p.eof() && p.peek() != ')' {
		p.next()
	}
	if p.eof() {
		return p.errorf("unterminated type annotation")
	}
	p.next()
	return nil
}

func (p *kdlParser) node() (*kdlNode, error) {
	if err := p.typeAnnotation(); err != nil {
		return nil, err
	}
	n := &kdlNode{Props: map[string]string{}, Line: p.line}
	name, _, err := p.value(true)
	if err != nil {
		return nil, err
	}
	n.Name = name
	for {
		if err := p.skipInline(); err != nil {
			return nil, err
		}
		if p.eof() {
			return n, nil
		}
		r := p.peek()
		switch {
		case isNewline(r) || r == ';':
			p.next()
			return n, nil
		case r == '/' && p.peekAt(1) == '/':
			for !p.eof() && !isNewline(p.peek()) {
				p.next()
			}
			return n, nil
		case r == '}':
			return n, nil
		case r == '{':
			p.next()
			children, err := p.nodes(true)
			if err != nil {
				return nil, err
			}
			n.Children = append(n.Children, children...)
		case r == '/' && p.peekAt(1) == '-':
			p.pos += 2
			if err := p.skipInline(); err != nil {
				return nil, err
			}
			if p.peek() == '{' {
				p.next()
				if _, err := p.nodes(true); err != nil {
					return nil, err
				}
				continue
			}
			if _, _, err := p.entry(); err != nil {
				return nil, err
			}
		default:
			key, val, err := p.entry()
			if err != nil {
				return nil, err
			}
			if key != "" {
				n.Props[key] = val
			} else {
				n.Args = append(n.Args, val)
			}
		}
	}
}

// entry parses an argument (key "") or a key=value property.
func (p *kdlParser) entry() (string, string, error) {
	if err := p.typeAnnotation(); err != nil {
		return "", "", err
	}
	v, quoted, err := p.value(false)
	if err != nil {
		return "", "", err
	}
	_ = quoted
	if p.peek() == '=' {
		p.next()
		if err := p.typeAnnotation(); err != nil {
			return "", "", err
		}
		val, _, err := p.value(false)
		if err != nil {
			return "", "", err
		}
		return v, val, nil
	}
	return "", v, nil
}

func isIdentDelim(r rune) bool {
	return r == 0 || isSpace(r) || isNewline(r) || strings.ContainsRune(`\/(){}<>;[]=,"`, r)
}

// value parses a string, raw string, or bare token (identifier, number,
// keyword). It reports whether the value was quoted.
func (p *kdlParser) value(isName bool) (string, bool, error) {
	if p.eof() {
		return "", false, p.errorf("unexpected end of file")
	}
	r := p.peek()
	switch {
	case r == '"':
		s, err := p.quoted()
		return s, true, err
	case r == 'r' && (p.peekAt(1) == '"' || p.peekAt(1) == '#'):
		s, err := p.raw()
		return s, true, err
	case isIdentDelim(r):
		return "", false, p.errorf("unexpected character %q", r)
	}
	start := p.pos
	for !p.eof() && !isIdentDelim(p.peek()) {
		p.next()
	}
	tok := string(p.src[start:p.pos])
	if !isName {
		switch tok {
		case "#true":
			tok = "true"
		case "#false":
			tok = "false"
		case "#null":
			tok = "null"
		}
	}
	return tok, false, nil
}

func (p *kdlParser) quoted() (string, error) {
	start := p.line
	p.next() // opening quote
	var b strings.Builder
	for !p.eof() {
		r := p.next()
		switch r {
		case '"':
			return b.String(), nil
		case '\\':
			if p.eof() {
				break
			}
			e := p.next()
			switch e {
			case 'n':
				b.WriteRune('\n')
			case 'r':
				b.WriteRune('\r')
			case 't':
				b.WriteRune('\t')
			case '\\', '"', '/':
				b.WriteRune(e)
			case 'b':
				b.WriteRune('\b')
			case 'f':
				b.WriteRune('\f')
			case 'u':
				if p.peek() != '{' {
					return "", p.errorf("invalid unicode escape")
				}
				p.next()
				hs := p.pos
				for !p.eof() && p.peek() != '}' {
					p.next()
				}
				code, err := strconv.ParseUint(string(p.src[hs:p.pos]), 16, 32)
				if err != nil || p.eof() {
					return "", p.errorf("invalid unicode escape")
				}
				p.next()
				b.WriteRune(rune(code))
			default:
				return "", p.errorf("invalid escape \\%c", e)
			}
		default:
			b.WriteRune(r)
		}
	}
	return "", fmt.Errorf("line %d: unterminated string", start)
}

func (p *kdlParser) raw() (string, error) {
	start := p.line
	p.next() // r
	hashes := 0
	for p.peek() == '#' {
		p.next()
		hashes++
	}
	if p.peek() != '"' {
		return "", p.errorf("invalid raw string")
	}
	p.next()
	closing := "\"" + strings.Repeat("#", hashes)
	rest := string(p.src[p.pos:])
	i := strings.Index(rest, closing)
	if i < 0 {
		return "", fmt.Errorf("line %d: unterminated raw string", start)
	}
	s := rest[:i]
	for range []rune(rest[:i+len(closing)]) {
		p.next()
	}
	return s, nil
}

// kdlQuote renders s as a KDL string literal.
func kdlQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}
