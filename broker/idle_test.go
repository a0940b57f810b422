package broker

import "testing"

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     cpuTimes
		err      bool
	}{
		// A real two-CPU guest: busy is user+nice+system+irq+softirq.
		{"two cpus", "cpu  100 5 50 1000 20 3 2 7 0 0\ncpu0 50 2 25 500 10 1 1 3 0 0\ncpu1 50 3 25 500 10 2 1 4 0 0\nintr 1\n",
			cpuTimes{busy: 160, total: 1187, cpus: 2}, false},
		// Old kernels have fewer columns than steal: refused, not guessed.
		{"short line", "cpu  1 2 3 4\n", cpuTimes{}, true},
		{"no cpu line", "intr 1 2\n", cpuTimes{}, true},
		{"not numbers", "cpu  a b c d e f g h\n", cpuTimes{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.in))
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if !tc.err && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCPUUseSince(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, cur cpuTimes
		use       float64
		ok        bool
	}{
		// One of four CPUs busy: one CPU's worth, however many there are.
		{"one of four busy", cpuTimes{busy: 0, total: 1000, cpus: 4}, cpuTimes{busy: 100, total: 1400, cpus: 4}, 1, true},
		{"quiet", cpuTimes{busy: 10, total: 1000, cpus: 2}, cpuTimes{busy: 11, total: 1200, cpus: 2}, 0.01, true},
		// No previous sample: nothing can be said, so not quiet.
		{"first sample", cpuTimes{}, cpuTimes{busy: 5, total: 100, cpus: 1}, 0, false},
		// Counters that went back mean the guest rebooted.
		{"rebooted", cpuTimes{busy: 500, total: 9000, cpus: 1}, cpuTimes{busy: 5, total: 100, cpus: 1}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			use, ok := tc.cur.since(tc.prev)
			if ok != tc.ok || (ok && (use < tc.use-1e-9 || use > tc.use+1e-9)) {
				t.Errorf("since = %v, %v; want %v, %v", use, ok, tc.use, tc.ok)
			}
		})
	}
}
