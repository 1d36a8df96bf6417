package feature

import (
	"bufio"
	"bytes"
	stdflag "flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = stdflag.Bool("update", false, "rewrite testdata golden files")

// goldenInputs are the (flag key, salt, targeting key) triples whose buckets
// every implementation, on every platform, must reproduce.
func goldenInputs() [][3]string {
	in := [][3]string{
		{"checkout-v2", "", "user-1"},
		{"checkout-v2", "", "user-2"},
		{"checkout-v2", "2025-06", "user-1"},
		{"checkout-v2", "", ""},
		{"", "", ""},
		{"new-search", "s", "ada@example.com"},
		{"new-search", "s", "Ada@Example.com"},
		{"pot.collect", "x", "ユーザー"},
		{"pot.collect", "x", "emoji-🚀"},
		{"a", "b", strings.Repeat("long-key-", 40)},
	}
	for i := range 20 {
		in = append(in, [3]string{"rollout", "", fmt.Sprintf("user-%d", i)})
	}
	return in
}

func TestBucketGolden(t *testing.T) {
	path := filepath.Join("testdata", "buckets.golden")
	var buf bytes.Buffer
	buf.WriteString("# flag key\tsalt\ttargeting key\tbucket — see docs/adr/0001-flag-bucketing.md\n")
	for _, in := range goldenInputs() {
		fmt.Fprintf(&buf, "%s\t%s\t%s\t%d\n", in[0], in[1], in[2], Bucket(in[0], in[1], in[2]))
	}
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open golden (run with -update to create): %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) != 4 {
			t.Fatalf("golden line %q: want 4 tab-separated fields", line)
		}
		want, err := strconv.ParseUint(parts[3], 10, 32)
		if err != nil {
			t.Fatalf("golden line %q: %v", line, err)
		}
		if got := Bucket(parts[0], parts[1], parts[2]); got != uint32(want) {
			t.Errorf("Bucket(%q, %q, %q) = %d, want %d: bucketing changed, every user would move", parts[0], parts[1], parts[2], got, want)
		}
		n++
	}
	if n < 20 {
		t.Errorf("golden file has %d vectors, want at least 20", n)
	}
}

func TestBucketMatchesCompiledFlag(t *testing.T) {
	for _, in := range goldenInputs() {
		if got, want := bucketOf(bucketPrefix(in[0], in[1]), in[2]), Bucket(in[0], in[1], in[2]); got != want || got >= Buckets {
			t.Errorf("bucketOf(%q) = %d, Bucket = %d; want equal and below %d", in, got, want, Buckets)
		}
	}
}

// randomKeys returns n distinct-looking targeting keys from a fixed seed, so a
// failure is reproducible.
func randomKeys(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("user-%016x", r.Uint64())
	}
	return keys
}

// onAt evaluates a 2-variant rollout at weight w for every key.
func onAt(t *testing.T, salt string, w int, keys []string) []bool {
	t.Helper()
	s := mustSnapshot(t, []*Flag{{Key: "rollout", Salt: salt, Enabled: true, Rules: []Rule{{Split: Percent(w)}}}})
	in := make([]bool, len(keys))
	for i, k := range keys {
		in[i] = Evaluate(s, "rollout", EvalContext{TargetingKey: k}).Variant == "on"
	}
	return in
}

func TestRolloutIsSticky(t *testing.T) {
	keys := randomKeys(20000, 1)
	r := rand.New(rand.NewPCG(2, 3))
	weights := []int{0, 1, 1000, 10000, 20000, 50000, 99999, 100000}
	for range 10 {
		weights = append(weights, r.IntN(TotalWeight+1))
	}
	sets := make(map[int][]bool)
	for _, w := range weights {
		sets[w] = onAt(t, "", w, keys)
	}
	for _, p := range weights {
		for _, q := range weights {
			if p >= q {
				continue
			}
			for i, k := range keys {
				if sets[p][i] && !sets[q][i] {
					t.Fatalf("%s is in at %s but out at %s: raising a rollout must keep everyone already in", k, FormatPercent(p), FormatPercent(q))
				}
			}
		}
	}
}

func TestLoweringRolloutRemovesOnlyUsersAboveTheLine(t *testing.T) {
	keys := randomKeys(20000, 4)
	before, after := onAt(t, "", 50000, keys), onAt(t, "", 20000, keys)
	removed := 0
	for i, k := range keys {
		if after[i] && !before[i] {
			t.Fatalf("%s is out at 50%% but in at 20%%: lowering a rollout must not add anyone", k)
		}
		if before[i] && !after[i] {
			// Removed users are exactly those whose bucket lies between the
			// old and the new line.
			b := Bucket("rollout", "", k)
			if b < TotalWeight-50000 || b >= TotalWeight-20000 {
				t.Fatalf("%s (bucket %d) removed, but it is not between the 50%% and 20%% lines", k, b)
			}
			removed++
		}
	}
	if removed == 0 {
		t.Fatal("lowering 50% to 20% removed nobody")
	}
}

func TestSaltReshuffles(t *testing.T) {
	keys := randomKeys(20000, 5)
	a, b := onAt(t, "", 50000, keys), onAt(t, "reshuffle-1", 50000, keys)
	same := 0
	for i := range keys {
		if a[i] == b[i] {
			same++
		}
	}
	// Independent assignments agree about half the time.
	if share := float64(same) / float64(len(keys)); share < 0.45 || share > 0.55 {
		t.Errorf("after a salt change %.1f%% of users kept their variant, want about 50%%", share*100)
	}
}

func TestSplitDistribution(t *testing.T) {
	keys := randomKeys(100000, 6)
	splits := [][]Weighted{
		Percent(50000),
		Percent(10000),
		Percent(1000),
		{{"a", 33333}, {"b", 33333}, {"c", 33334}},
		{{"a", 20000}, {"b", 20000}, {"c", 20000}, {"d", 20000}, {"e", 20000}},
		{{"control", 90000}, {"treatment", 5000}, {"treatment-2", 5000}},
	}
	for _, split := range splits {
		variants := map[string]any{}
		for _, w := range split {
			variants[w.Variant] = w.Variant
		}
		off := split[0].Variant
		s := mustSnapshot(t, []*Flag{{Key: "exp", Enabled: true, Variants: variants, OffVariant: off, Rules: []Rule{{Split: split}}}})
		if len(split) == 2 && split[1].Variant == "on" {
			s = mustSnapshot(t, []*Flag{{Key: "exp", Enabled: true, Rules: []Rule{{Split: split}}}})
		}
		counts := map[string]int{}
		for _, k := range keys {
			counts[Evaluate(s, "exp", EvalContext{TargetingKey: k}).Variant]++
		}
		for _, w := range split {
			got := float64(counts[w.Variant]) / float64(len(keys)) * 100
			want := float64(w.Weight) / 1000
			if got < want-1 || got > want+1 {
				t.Errorf("split %v: %s served to %.2f%% of 100,000 keys, want %.3f%% ± 1", split, w.Variant, got, want)
			}
		}
	}
}

func TestSplitOrderDoesNotMatter(t *testing.T) {
	keys := randomKeys(2000, 7)
	a := mustSnapshot(t, []*Flag{{Key: "f", Enabled: true, Rules: []Rule{{Split: []Weighted{{"on", 30000}, {"off", 70000}}}}}})
	b := mustSnapshot(t, []*Flag{{Key: "f", Enabled: true, Rules: []Rule{{Split: []Weighted{{"off", 70000}, {"on", 30000}}}}}})
	for _, k := range keys {
		ctx := EvalContext{TargetingKey: k}
		if va, vb := Evaluate(a, "f", ctx).Variant, Evaluate(b, "f", ctx).Variant; va != vb {
			t.Fatalf("%s gets %s or %s depending on the order the split is written in", k, va, vb)
		}
	}
}
