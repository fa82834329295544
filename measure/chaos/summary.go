package chaos

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/lienthong/lienthong/measure/oracle"
)

// Injection is one fault the harness injected, with what it saw of it.
type Injection struct {
	Fault  string
	When   string
	Effect string
}

// WriteSummary prints what was injected and what was checked, with the
// first violations of each invariant and the dossiers left waiting.
func WriteSummary(w io.Writer, injected []Injection, v oracle.Verdict, maxPerInvariant int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INJECTED\tWHEN\tOBSERVED")
	for _, in := range injected {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", in.Fault, in.When, in.Effect)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "INVARIANT\tCHECKED\tVIOLATIONS\tRESULT\tRULE")
	for _, c := range v.Checks {
		result := "ok"
		if c.Violations > 0 {
			result = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", c.Name, c.Checked, c.Violations, result, c.Rule)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	shown := map[string]int{}
	for _, vi := range v.Violations {
		shown[vi.Invariant]++
		if shown[vi.Invariant] > maxPerInvariant {
			continue
		}
		fmt.Fprintf(w, "  violation [%s] %s: %s\n", vi.Invariant, vi.Code, vi.Detail)
	}
	for _, c := range v.Checks {
		if c.Violations > maxPerInvariant {
			fmt.Fprintf(w, "  ... and %d more [%s]\n", c.Violations-maxPerInvariant, c.Name)
		}
	}
	for i, wt := range v.Waiting {
		if i == maxPerInvariant {
			fmt.Fprintf(w, "  ... and %d more waiting\n", len(v.Waiting)-i)
			break
		}
		fmt.Fprintf(w, "  waiting %s: %s\n", wt.Code, wt.Reason)
	}
	return nil
}
