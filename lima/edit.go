package lima

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Edit changes settings of the stopped instance name with
// `limactl edit --tty=false --set EXPR NAME`: set gives top-level keys of
// its lima.yaml their new values, removed deletes keys. Lima refuses a
// running instance and a disk that shrinks (Lima v1.2.2
// cmd/limactl/edit.go:61-63,124, pkg/limayaml/validate.go:643-645; v2.2.0
// cmd/limactl/edit.go:68-70,162, pkg/limayaml/validate.go:724-727), and
// with --tty=false it does not start the instance (v1.2.2 edit.go:136-139;
// v2.2.0 edit.go:179-191, --start unset). The one --set holds every change
// joined with " | " as Lima joins several (v2.2.0 pkg/yqutil/yqutil.go:123):
// 1.x takes a single --set (v1.2.2 cmd/limactl/editflags/editflags.go:63),
// 2.x several (v2.2.0 editflags.go:71).
func (c *Client) Edit(ctx context.Context, name string, set map[string]any, removed []string) error {
	expr, err := SetExpression(set, removed)
	if err != nil {
		return err
	}
	_, err = c.run(ctx, "edit", "--tty=false", "--set", expr, name)
	return err
}

// SetExpression is the yq expression that sets the top-level keys of set
// and deletes those of removed, in key order. Values are what a YAML
// decoder gives (maps, lists, strings, numbers, booleans, nil). It fails
// for a value yq cannot take literally: yq's string literals undo no
// escape but \" (mikefarah/yq pkg/yqlib/lexer_participle.go stringValue),
// so a string holding a backslash before a quote, or ending in one, has no
// literal; and for a key that is not a plain name.
func SetExpression(set map[string]any, removed []string) (string, error) {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		if !plainKey(k) {
			return "", fmt.Errorf("key %q cannot be set with limactl edit", k)
		}
		v, err := yqLiteral(set[k])
		if err != nil {
			return "", fmt.Errorf("%s: %w", k, err)
		}
		parts = append(parts, "."+k+" = "+v)
	}
	del := append([]string(nil), removed...)
	sort.Strings(del)
	for _, k := range del {
		if !plainKey(k) {
			return "", fmt.Errorf("key %q cannot be removed with limactl edit", k)
		}
		parts = append(parts, "del(."+k+")")
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("nothing to change")
	}
	return strings.Join(parts, " | "), nil
}

// plainKey reports whether k is a name yq takes after "." as one path
// element.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// yqLiteral writes v as a yq expression that evaluates to v.
func yqLiteral(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case string:
		return yqString(x)
	case []any:
		items := make([]string, len(x))
		for i, e := range x {
			s, err := yqLiteral(e)
			if err != nil {
				return "", err
			}
			items[i] = s
		}
		return "[" + strings.Join(items, ", ") + "]", nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		items := make([]string, len(keys))
		for i, k := range keys {
			ks, err := yqString(k)
			if err != nil {
				return "", err
			}
			vs, err := yqLiteral(x[k])
			if err != nil {
				return "", err
			}
			items[i] = ks + ": " + vs
		}
		return "{" + strings.Join(items, ", ") + "}", nil
	}
	return "", fmt.Errorf("a %T has no yq literal", v)
}

// yqString quotes s for yq, whose lexer takes "…" with \" for a quote and
// every other character, newlines and backslashes included, as it is.
func yqString(s string) (string, error) {
	if strings.Contains(s, `\"`) || strings.HasSuffix(s, `\`) {
		return "", fmt.Errorf("the string %q has no yq literal", s)
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`, nil
}
