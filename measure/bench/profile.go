package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/lienthong/lienthong/measure/loadgen"
)

func summarizeProfile(path string) (loadgen.ProfileSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return loadgen.ProfileSummary{}, err
	}
	defer f.Close()
	return loadgen.SummarizeCPUProfile(f)
}

// profileTop asks `go tool pprof` for the functions with the most flat time,
// without the header lines that only name the file.
func profileTop(ctx context.Context, path string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=15", path)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go tool pprof: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var keep []string
	for line := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && slices.Contains([]string{"File", "Build ID", "Type", "Time"}, k) {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n"), nil
}
