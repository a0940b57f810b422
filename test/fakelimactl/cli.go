package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ---- logrus-compatible logging ----

// logOut is where log lines go (stderr, like every limactl log line).
var logOut io.Writer = os.Stderr

// logrusNeedsQuoting mirrors logrus.TextFormatter.needsQuoting.
func logrusNeedsQuoting(s string) bool {
	for _, ch := range s {
		if !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			ch == '-' || ch == '.' || ch == '_' || ch == '/' || ch == '@' || ch == '^' || ch == '+') {
			return true
		}
	}
	return false
}

func logrusValue(s string) string {
	if logrusNeedsQuoting(s) {
		return strconv.Quote(s)
	}
	return s
}

// logLine writes one logrus non-TTY text line:
// time="<RFC3339>" level=<level> msg="<msg>" [k=v ...].
func logLine(t time.Time, level, msg string, fields map[string]string) {
	var b strings.Builder
	b.WriteString("time=" + logrusValue(t.Format(time.RFC3339)))
	b.WriteString(" level=" + level)
	b.WriteString(" msg=" + logrusValue(msg))
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + logrusValue(fields[k]))
	}
	b.WriteString("\n")
	_, _ = io.WriteString(logOut, b.String())
}

func infof(format string, a ...any)  { logLine(time.Now(), "info", fmt.Sprintf(format, a...), nil) }
func warnf(format string, a ...any)  { logLine(time.Now(), "warning", fmt.Sprintf(format, a...), nil) }
func errorf(format string, a ...any) { logLine(time.Now(), "error", fmt.Sprintf(format, a...), nil) }

// fatal logs err as a level=fatal line and returns exit code 1.
func fatal(err error) int {
	logLine(time.Now(), "fatal", err.Error(), nil)
	return 1
}

// ---- pflag-like flag parsing ----

type flagKind int

const (
	boolFlag flagKind = iota
	valueFlag
)

type flagSpec struct {
	long  string
	short string
	kind  flagKind
}

type parsedFlags struct {
	values  map[string]string
	changed map[string]bool
	args    []string
}

func (p *parsedFlags) bool(name string) bool {
	v, ok := p.values[name]
	if !ok {
		return false
	}
	b, _ := strconv.ParseBool(v)
	return b
}

func (p *parsedFlags) str(name string) string { return p.values[name] }

// parseFlags parses args like spf13/pflag: --long, --long=v, --long v, -s,
// -s v, -sv; "--" ends flags. With interspersed false, parsing stops at the
// first positional argument (cobra's SetInterspersed(false)).
func parseFlags(args []string, specs []flagSpec, interspersed bool) (*parsedFlags, error) {
	p := &parsedFlags{values: map[string]string{}, changed: map[string]bool{}}
	byLong := map[string]flagSpec{}
	byShort := map[string]flagSpec{}
	for _, s := range specs {
		byLong[s.long] = s
		if s.short != "" {
			byShort[s.short] = s
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			p.args = append(p.args, args[i+1:]...)
			return p, nil
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			s, ok := byLong[name]
			if !ok {
				return nil, fmt.Errorf("unknown flag: --%s", name)
			}
			if s.kind == boolFlag {
				if !hasVal {
					val = "true"
				}
				if _, err := strconv.ParseBool(val); err != nil {
					return nil, fmt.Errorf("invalid argument %q for %q flag: %v", val, "--"+name, err)
				}
			} else if !hasVal {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("flag needs an argument: --%s", name)
				}
				i++
				val = args[i]
			}
			p.values[s.long] = val
			p.changed[s.long] = true
		case strings.HasPrefix(a, "-") && a != "-":
			shorts := a[1:]
			for j := 0; j < len(shorts); j++ {
				c := string(shorts[j])
				s, ok := byShort[c]
				if !ok {
					return nil, fmt.Errorf("unknown shorthand flag: '%s' in %s", c, a)
				}
				if s.kind == boolFlag {
					p.values[s.long] = "true"
					p.changed[s.long] = true
					continue
				}
				val := shorts[j+1:]
				if val == "" {
					if i+1 >= len(args) {
						return nil, fmt.Errorf("flag needs an argument: '%s' in %s", c, a)
					}
					i++
					val = args[i]
				}
				p.values[s.long] = strings.TrimPrefix(val, "=")
				p.changed[s.long] = true
				break
			}
		default:
			if !interspersed {
				p.args = append(p.args, args[i:]...)
				return p, nil
			}
			p.args = append(p.args, a)
		}
	}
	return p, nil
}

// logLineFields logs msg at level with extra logrus fields.
func logLineFields(level, msg string, fields map[string]string) {
	logLine(time.Now(), level, msg, fields)
}
