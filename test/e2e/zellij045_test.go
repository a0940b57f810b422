package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	keyboardPush = regexp.MustCompile(`\x1b\[>\d*u`)
	keyboardPop  = regexp.MustCompile(`\x1b\[<\d*u`)
)

// modesLeftOn describes the host terminal modes Zellij 0.45 turns on that
// are still on at the end of out ("" when none): kitty keyboard levels
// pushed and not popped, focus reporting, theme notifications.
func modesLeftOn(out string) string {
	var left []string
	if push, pop := len(keyboardPush.FindAllString(out, -1)), len(keyboardPop.FindAllString(out, -1)); push != pop {
		left = append(left, "kitty keyboard: "+strings.Repeat("push ", push)+"vs "+strings.Repeat("pop ", pop))
	}
	for _, mode := range []string{"1004", "2031"} {
		if strings.LastIndex(out, "\x1b[?"+mode+"h") > strings.LastIndex(out, "\x1b[?"+mode+"l") {
			left = append(left, "?"+mode)
		}
	}
	return strings.Join(left, ", ")
}

// A dropped link kills Zellij's client without its teardown: sysvm undoes
// every mode it turned on before saying anything on the host, and the
// reconnected session's own teardown (Ctrl-o d) leaves nothing on either.
func TestZellijModesResetAfterLostLink(t *testing.T) {
	e := newEnv(t)
	dir := e.layoutProject("modes")
	tm := e.attach(dir, nil)
	if out := tm.Output(); modesLeftOn(out) == "" {
		t.Fatalf("the session turned on none of Zellij 0.45's modes: %q", out)
	}
	for i := 1; i <= 2; i++ {
		mark := tm.Mark()
		if n, err := e.DropConnections("modes-dev"); err != nil || n == 0 {
			t.Fatalf("drop %d: killed %d processes: %v", i, n, err)
		}
		tm.WaitAfter(mark, `connection to modes-dev lost; reconnecting`, 20*time.Second)
		out := tm.Output()
		before := out[:strings.LastIndex(out, "connection to modes-dev lost")]
		if left := modesLeftOn(before); left != "" {
			t.Errorf("drop %d: still on when sysvm spoke on the host: %s", i, left)
		}
		answer(t, tm, "echo back-$((40+i))", "back-4", 20*time.Second)
	}
	if code := detach(t, tm); code != 0 {
		t.Fatalf("detach: exit %d", code)
	}
	if left := modesLeftOn(tm.Output()); left != "" {
		t.Errorf("left on after the detach: %s", left)
	}
}
