package loadgen

import (
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// IsTerminal says whether f is a terminal; piped or redirected output
// (a file, a pipe, /dev/null) gets plain periodic lines instead of a bar.
func IsTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// progressState is what the progress display shows.
type progressState struct {
	total, answered, accepted, finished int
	elapsed                             time.Duration
}

// progressBar renders one line of width columns of bar, e.g.
// "[#######-------]  812/2000 sent  640 done  21.3/s  0m42s".
func progressBar(s progressState, width int) string {
	frac := 0.0
	if s.total > 0 {
		frac = float64(s.finished) / float64(s.total)
	}
	sent := 0.0
	if s.total > 0 {
		sent = float64(s.answered) / float64(s.total)
	}
	done := int(frac * float64(width))
	submitted := max(int(sent*float64(width))-done, 0)
	bar := strings.Repeat("#", done) + strings.Repeat("=", submitted) + strings.Repeat(" ", max(width-done-submitted, 0))
	return fmt.Sprintf("[%s] %d/%d sent  %d done  %.1f/s  %s", bar, s.answered, s.total, s.finished, rate(s.finished, s.elapsed), clock(s.elapsed))
}

// progressLine is the plain form for logs.
func progressLine(s progressState) string {
	return fmt.Sprintf("loadgen: %d/%d sent (%d accepted), %d done (%.1f/s) after %s",
		s.answered, s.total, s.accepted, s.finished, rate(s.finished, s.elapsed), clock(s.elapsed))
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// progress draws until the returned stop is called.
func (r *runner) progress(start time.Time) (stop func()) {
	w := r.cfg.Progress
	if w == nil {
		return func() {}
	}
	every := r.cfg.ProgressEvery
	if r.cfg.ProgressTTY {
		every = 250 * time.Millisecond
	}
	snapshot := func() progressState {
		r.mu.Lock()
		defer r.mu.Unlock()
		return progressState{total: r.cfg.Dossiers, answered: r.answered, accepted: len(r.order), finished: r.finished, elapsed: time.Since(start)}
	}
	draw := func() {
		if r.cfg.ProgressTTY {
			fmt.Fprintf(w, "\r%s\x1b[K", progressBar(snapshot(), 30))
		} else {
			fmt.Fprintln(w, progressLine(snapshot()))
		}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				draw()
				if r.cfg.ProgressTTY {
					fmt.Fprintln(w)
				}
				return
			case <-t.C:
				draw()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
