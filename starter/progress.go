package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progressReport is where a long command's run stands: what its workflow's
// progress query answers, in the units the operator counts.
type progressReport struct {
	// Stage names what the run does now ("backing up", "restoring").
	Stage string
	// Done of Total units (backups, folders) are finished; Total is 0
	// until enumeration knows it.
	Done, Total int
	Unit        string
	// Items and Bytes handled; their totals are 0 while unknown.
	Items, ItemsTotal int64
	Bytes, BytesTotal int64
}

// fraction is how much of the run is done, by the most precise total
// known (bytes, then items, then units); ok is false while none is.
func (r progressReport) fraction() (f float64, ok bool) {
	switch {
	case r.BytesTotal > 0:
		return min(1, float64(r.Bytes)/float64(r.BytesTotal)), true
	case r.ItemsTotal > 0:
		return min(1, float64(r.Items)/float64(r.ItemsTotal)), true
	case r.Total > 0:
		return min(1, float64(r.Done)/float64(r.Total)), true
	}
	return 0, false
}

// eta is the time left at the pace of the elapsed time: known once a
// total is and part of it is done.
func (r progressReport) eta(elapsed time.Duration) (time.Duration, bool) {
	f, ok := r.fraction()
	if !ok || f <= 0 || elapsed <= 0 {
		return 0, false
	}
	return time.Duration(float64(elapsed) * (1 - f) / f).Round(time.Second), true
}

// line renders r after elapsed as one line, e.g. "backing up: 3/7
// backups · 1204 items · 45.6 MiB · 120 items/s, 4.6 MiB/s · 10s elapsed ·
// ETA 13s", or "deleting backups: 3/7 backups · 0.3 backups/s · 10s
// elapsed · ETA 13s" for a run that counts no items.
func (r progressReport) line(elapsed time.Duration) string {
	var parts []string
	head := r.Stage
	if r.Total > 0 {
		head += fmt.Sprintf(": %d/%d %s", r.Done, r.Total, r.Unit)
	}
	parts = append(parts, head)
	switch {
	case r.ItemsTotal > 0:
		parts = append(parts, fmt.Sprintf("%d of %d items", r.Items, r.ItemsTotal))
	case r.Items > 0 || r.Bytes > 0:
		parts = append(parts, fmt.Sprintf("%d items", r.Items))
	}
	if r.BytesTotal > 0 {
		parts = append(parts, humanBytes(r.Bytes)+" of "+humanBytes(r.BytesTotal))
	} else if r.Bytes > 0 {
		parts = append(parts, humanBytes(r.Bytes))
	}
	switch s := elapsed.Seconds(); {
	case s < 1:
	case r.Items > 0 || r.Bytes > 0:
		rate := fmt.Sprintf("%.0f items/s", float64(r.Items)/s)
		if r.Bytes > 0 {
			rate += ", " + humanBytes(int64(float64(r.Bytes)/s)) + "/s"
		}
		parts = append(parts, rate)
	case r.Done > 0:
		// Units are all a run counts (backups deleted): their rate.
		parts = append(parts, fmt.Sprintf("%.1f %s/s", float64(r.Done)/s, r.Unit))
	}
	parts = append(parts, elapsed.Round(time.Second).String()+" elapsed")
	if d, ok := r.eta(elapsed); ok {
		parts = append(parts, "ETA "+d.String())
	}
	return strings.Join(parts, " · ")
}

// clearLine returns the cursor to the line's start and erases the line.
const clearLine = "\r\x1b[K"

// progressLine draws reports on one line of a terminal, in place.
type progressLine struct {
	w     io.Writer
	width int // columns; the line is cut to fit, as a wrapped line cannot be erased
	every time.Duration
	start time.Time
	drawn bool
}

// newProgressLine returns the progress line of a command writing to
// stderr, or nil when it must not show: with --json or --hide-progress, or
// when stderr is not a terminal (a pipe, a file, a CI log).
func newProgressLine(g *globals, stderr *os.File) *progressLine {
	if g.json || g.hideProgress || !term.IsTerminal(int(stderr.Fd())) {
		return nil
	}
	width, _, err := term.GetSize(int(stderr.Fd()))
	if err != nil || width <= 0 {
		width = 80
	}
	return &progressLine{w: stderr, width: width, every: progressEvery}
}

// draw replaces the line with r as it stands at now. Names in stages come
// from the tenant, so the line goes out neutralised (output.go).
func (p *progressLine) draw(r progressReport, now time.Time) {
	s := []rune(printable(r.line(now.Sub(p.start))))
	if len(s) > p.width-1 {
		s = append(s[:max(0, p.width-2)], '…')
	}
	fmt.Fprint(p.w, clearLine+string(s))
	p.drawn = true
}

// clear erases the line, so what the command prints next starts on a
// clean one.
func (p *progressLine) clear() {
	if p.drawn {
		fmt.Fprint(p.w, clearLine)
		p.drawn = false
	}
}

// progressEvery is how often the line is redrawn.
const progressEvery = 2 * time.Second

// watch redraws the line with what poll answers until the returned stop
// is called; stop waits for the last draw and clears the line, so the
// command's results never share it. A nil line watches nothing.
func (p *progressLine) watch(ctx context.Context, poll func(context.Context) (progressReport, bool)) (stop func()) {
	if p == nil || poll == nil {
		return func() {}
	}
	p.start = time.Now()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if r, ok := poll(ctx); ok && ctx.Err() == nil {
				p.draw(r, time.Now())
			}
		}
	}()
	return func() {
		cancel()
		<-done
		p.clear()
	}
}
