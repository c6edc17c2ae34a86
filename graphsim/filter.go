package graphsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A small OData $filter evaluator covering what backup tools send: eq, ne,
// gt, ge, lt, le, and, or, not, parentheses, startswith/endswith/contains,
// and lambda any() over collections (proxyAddresses/any(a:a eq 'smtp:x'),
// resourceProvisioningOptions/Any(x:x eq 'Team')). String comparisons are
// case-insensitive, as in the directory.

type filterExpr interface {
	eval(get func(prop string) any) bool
}

type filterParser struct {
	toks     []string
	pos      int
	advanced bool // uses ne/not/endswith: needs ConsistencyLevel eventual
}

func parseFilter(s string) (filterExpr, bool, error) {
	toks, err := tokenizeFilter(s)
	if err != nil {
		return nil, false, err
	}
	p := &filterParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, false, err
	}
	if p.pos != len(p.toks) {
		return nil, false, fmt.Errorf("syntax error at position %d in '%s'", p.pos, s)
	}
	return e, p.advanced, nil
}

func tokenizeFilter(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',' || c == ':':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string literal")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, "'"+b.String())
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),:'", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *filterParser) expect(t string) error {
	if got := p.next(); got != t {
		return fmt.Errorf("expected '%s', got '%s'", t, got)
	}
	return nil
}

func (p *filterParser) or() (filterExpr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "or") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = boolOp{or: true, l: l, r: r}
	}
	return l, nil
}

func (p *filterParser) and() (filterExpr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "and") {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = boolOp{l: l, r: r}
	}
	return l, nil
}

func (p *filterParser) unary() (filterExpr, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.next()
		p.advanced = true
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notOp{e}, nil
	}
	if p.peek() == "(" {
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	}
	return p.comparison()
}

// operand is a property path, a lambda variable, or a literal.
type operand struct {
	prop string
	lit  any
	isLt bool
}

func (p *filterParser) operand() (operand, error) {
	t := p.next()
	switch {
	case t == "":
		return operand{}, fmt.Errorf("unexpected end of filter")
	case strings.HasPrefix(t, "'"):
		return operand{lit: t[1:], isLt: true}, nil
	case strings.EqualFold(t, "true"):
		return operand{lit: true, isLt: true}, nil
	case strings.EqualFold(t, "false"):
		return operand{lit: false, isLt: true}, nil
	case strings.EqualFold(t, "null"):
		return operand{lit: nil, isLt: true}, nil
	}
	if n, err := strconv.ParseFloat(t, 64); err == nil {
		return operand{lit: n, isLt: true}, nil
	}
	if ts, err := time.Parse(time.RFC3339, t); err == nil {
		return operand{lit: ts, isLt: true}, nil
	}
	return operand{prop: t}, nil
}

func (p *filterParser) comparison() (filterExpr, error) {
	// Function call?
	if fn := strings.ToLower(p.peek()); (fn == "startswith" || fn == "endswith" || fn == "contains") &&
		p.pos+1 < len(p.toks) && p.toks[p.pos+1] == "(" {
		p.next()
		p.next()
		if fn == "endswith" {
			p.advanced = true
		}
		a, err := p.operand()
		if err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		b, err := p.operand()
		if err != nil {
			return nil, err
		}
		return strFunc{fn: fn, a: a, b: b}, p.expect(")")
	}
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	// Lambda: coll/any(x: expr)
	if !left.isLt && p.peek() == "(" {
		path, fn, ok := strings.Cut(left.prop, "/")
		if !ok || (!strings.EqualFold(fn, "any") && !strings.EqualFold(fn, "all")) {
			return nil, fmt.Errorf("unknown function '%s'", left.prop)
		}
		p.next()
		v := p.next()
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		body, err := p.or()
		if err != nil {
			return nil, err
		}
		return lambda{coll: path, all: strings.EqualFold(fn, "all"), v: v, body: body}, p.expect(")")
	}
	op := strings.ToLower(p.next())
	switch op {
	case "eq", "gt", "ge", "lt", "le":
	case "ne":
		p.advanced = true
	default:
		return nil, fmt.Errorf("unknown operator '%s'", op)
	}
	right, err := p.operand()
	if err != nil {
		return nil, err
	}
	return cmp{op: op, a: left, b: right}, nil
}

type boolOp struct {
	or   bool
	l, r filterExpr
}

func (b boolOp) eval(get func(string) any) bool {
	if b.or {
		return b.l.eval(get) || b.r.eval(get)
	}
	return b.l.eval(get) && b.r.eval(get)
}

type notOp struct{ e filterExpr }

func (n notOp) eval(get func(string) any) bool { return !n.e.eval(get) }

func (o operand) value(get func(string) any) any {
	if o.isLt {
		return o.lit
	}
	return get(o.prop)
}

type cmp struct {
	op   string
	a, b operand
}

func (c cmp) eval(get func(string) any) bool {
	x, y := c.a.value(get), c.b.value(get)
	r, ok := compare(x, y)
	switch c.op {
	case "eq":
		return ok && r == 0 || x == nil && y == nil
	case "ne":
		return !(ok && r == 0 || x == nil && y == nil)
	}
	if !ok {
		return false
	}
	switch c.op {
	case "gt":
		return r > 0
	case "ge":
		return r >= 0
	case "lt":
		return r < 0
	default:
		return r <= 0
	}
}

// compare orders two filter values of the same type.
func compare(x, y any) (int, bool) {
	switch a := x.(type) {
	case string:
		if t, isTime := y.(time.Time); isTime {
			at, err := time.Parse(time.RFC3339, a)
			if err != nil {
				return 0, false
			}
			return at.Compare(t), true
		}
		b, ok := y.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(strings.ToLower(a), strings.ToLower(b)), true
	case bool:
		b, ok := y.(bool)
		if !ok {
			return 0, false
		}
		if a == b {
			return 0, true
		}
		if !a {
			return -1, true
		}
		return 1, true
	case float64:
		b, ok := y.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case a < b:
			return -1, true
		case a > b:
			return 1, true
		}
		return 0, true
	case int:
		return compare(float64(a), y)
	case time.Time:
		b, ok := y.(time.Time)
		if !ok {
			if s, isStr := y.(string); isStr {
				if t, err := time.Parse(time.RFC3339, s); err == nil {
					b, ok = t, true
				}
			}
		}
		if !ok {
			return 0, false
		}
		return a.Compare(b), true
	}
	return 0, false
}

type strFunc struct {
	fn   string
	a, b operand
}

func (f strFunc) eval(get func(string) any) bool {
	x, _ := f.a.value(get).(string)
	y, _ := f.b.value(get).(string)
	x, y = strings.ToLower(x), strings.ToLower(y)
	switch f.fn {
	case "startswith":
		return strings.HasPrefix(x, y)
	case "endswith":
		return strings.HasSuffix(x, y)
	default:
		return strings.Contains(x, y)
	}
}

type lambda struct {
	coll string
	all  bool
	v    string
	body filterExpr
}

func (l lambda) eval(get func(string) any) bool {
	items, _ := get(l.coll).([]string)
	for _, it := range items {
		ok := l.body.eval(func(p string) any {
			if strings.EqualFold(p, l.v) {
				return it
			}
			return get(p)
		})
		if ok && !l.all {
			return true
		}
		if !ok && l.all {
			return false
		}
	}
	return l.all
}

// objectGetter evaluates property paths against a rendered object.
func objectGetter(o object) func(string) any {
	return func(p string) any {
		for _, e := range o {
			if strings.EqualFold(e.k, p) {
				v := e.v
				if l, ok := v.(lazy); ok {
					v = l()
				}
				return v
			}
		}
		return nil
	}
}
