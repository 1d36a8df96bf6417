package migrate

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus/*/lint.golden from the current output")

const corpusDir = "testdata/corpus"

// TestCorpus lints every release folder of the corpus and compares the text
// report with the folder's lint.golden.
func TestCorpus(t *testing.T) {
	cases, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			var out bytes.Buffer
			set, err := LoadDir(os.DirFS(filepath.Join(corpusDir, c.Name())), ".")
			if err != nil {
				out.WriteString("load: " + err.Error() + "\n")
			} else if err := Lint(set).WriteText(&out); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join(corpusDir, c.Name(), "lint.golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("lint %s differs from lint.golden (-want +got):\n%s", c.Name(), diff)
			}
		})
	}
}

// TestCorpusVerdicts checks the verdict that each corpus file's name
// promises, independently of the golden files: a "violates" file has a
// blocking finding of its folder's rule, a "safe" file has no finding of
// it and nothing blocking (another rule may warn: the safe way to add a
// constraint still narrows what the live release may write), an
// "allowed" file has its folder's rule allowed and nothing blocking, a
// "no_reason" file has its allow refused.
func TestCorpusVerdicts(t *testing.T) {
	kinds := map[string]map[string]int{} // rule → verdict kind → files
	total := 0
	for _, rule := range append(RuleNames(), "new-tables", "goose-annotations", "realistic-release") {
		dir := filepath.Join(corpusDir, rule)
		set, err := LoadDir(os.DirFS(dir), ".")
		if err != nil {
			t.Fatalf("LoadDir(%s): %v", dir, err)
		}
		byFile := map[string][]Finding{}
		for _, f := range Lint(set).Findings {
			byFile[f.File] = append(byFile[f.File], f)
		}
		kinds[rule] = map[string]int{}
		for _, f := range set.Files() {
			total++
			kind := verdictKind(f.Name)
			kinds[rule][kind]++
			if msg := checkVerdict(kind, rule, byFile[f.Path]); msg != "" {
				t.Errorf("%s/%s: %s; findings:\n%s", rule, f.Path, msg, describe(byFile[f.Path]))
			}
		}
	}
	for _, rule := range RuleNames() {
		for _, kind := range []string{"violates", "safe", "allowed", "no_reason"} {
			if kinds[rule][kind] == 0 {
				t.Errorf("corpus has no %q file for rule %s", kind, rule)
			}
		}
	}
	if total < 40 {
		t.Errorf("corpus has %d migration files with verdicts, want at least 40", total)
	}
}

func verdictKind(name string) string {
	for _, kind := range []string{"violates", "safe", "allowed", "no_reason"} {
		if strings.Contains(name, kind) {
			return kind
		}
	}
	return ""
}

// checkVerdict returns what is wrong with findings for a file of the given
// verdict kind, or "".
func checkVerdict(kind, rule string, findings []Finding) string {
	has := func(match func(Finding) bool) bool { return slices.ContainsFunc(findings, match) }
	ofRule := func(f Finding) bool { return f.Rule == rule || !isRule(rule) }
	switch kind {
	case "violates":
		if !has(func(f Finding) bool { return ofRule(f) && !f.Allowed }) {
			return "no " + rule + " finding, want one"
		}
	case "safe":
		if has(func(f Finding) bool { return ofRule(f) || f.blocking() }) {
			return "findings in a safe migration, want none of its rule and nothing blocking"
		}
	case "allowed":
		if !has(func(f Finding) bool { return ofRule(f) && f.Allowed && f.AllowReason != "" }) {
			return "no allowed " + rule + " finding, want one"
		}
		if has(Finding.blocking) {
			return "blocking finding in an allowed migration"
		}
	case "no_reason":
		if !has(func(f Finding) bool { return f.Rule == RuleAllowWithoutReason }) ||
			!has(func(f Finding) bool { return ofRule(f) && !f.Allowed }) {
			return "allow without reason was not refused"
		}
	}
	return ""
}

func isRule(name string) bool {
	_, ok := lookupRule(name)
	return ok
}

func describe(findings []Finding) string {
	var b strings.Builder
	for _, f := range findings {
		b.WriteString("  " + f.Rule + " allowed=" + map[bool]string{true: "yes", false: "no"}[f.Allowed] + ": " + f.Message + "\n")
	}
	return b.String()
}
