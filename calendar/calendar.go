// Package calendar owns working days: which days Vietnam's public agencies work, and how
// deadlines counted in working days fall, with the 15:00 receipt cut-off.
//
// The holidays are data, not code: one JSON file per year (data/2025.json, ...), embedded
// for Default and editable by operators, who can load their own directory with
//
//	cal, err := calendar.Load(os.DirFS("/etc/lienthong/calendar"), calendar.Config{})
//
// A loaded directory replaces the embedded files, so it must hold every year wanted (copy
// the shipped ones). Years with no file are counted as plain weeks, Monday to Friday, and
// Covers reports false for them so that callers can warn.
//
// All days and times are read in Vietnam's time zone, UTC+7 with no daylight saving time
// (the same fixed zone as package civil's Zone). The package is pure and must not import
// any other lienthong package.
package calendar

import (
	"slices"
	"sync"
	"time"
)

// zone is UTC+7, fixed so that no tzdata is needed. It equals civil.Zone; calendar keeps
// its own copy so that it imports nothing from lienthong.
var zone = time.FixedZone("ICT", 7*60*60)

// Config sets the working week and the hours that deadlines use. Zero fields take the
// defaults.
type Config struct {
	// Weekdays are the ordinary working days. Default Monday to Friday. The shipped year
	// files list only holidays that fall Monday to Friday (and mark any other on_weekend):
	// an office that also works Saturdays must list the Saturdays it closes in its own files.
	Weekdays []time.Weekday
	// CutOff is the time of day from which a file counts as received on the next working
	// day. A file received at CutOff exactly is late. Default 15:00.
	CutOff time.Duration
	// EndOfDay is the time of day a deadline falls due. Default 17:00.
	EndOfDay time.Duration
	// StartOfDay is the time of day a late file counts as received on the next working
	// day. Default 08:00.
	StartOfDay time.Duration
}

// Defaults.
const (
	DefaultCutOff     = 15 * time.Hour
	DefaultEndOfDay   = 17 * time.Hour
	DefaultStartOfDay = 8 * time.Hour
)

// DefaultWeekdays returns Monday to Friday.
func DefaultWeekdays() []time.Weekday {
	return []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
}

// Calendar answers working-day questions. It is immutable and safe for concurrent use.
type Calendar struct {
	workdays        [7]bool
	cutOff          time.Duration
	endOfDay        time.Duration
	startOfDay      time.Duration
	holidays        map[date]string
	workingWeekends map[date]string
	sources         map[int]string // year -> the file's source
}

// date is a calendar day, the key of the holiday tables.
type date struct {
	year  int
	month time.Month
	day   int
}

func dateOf(t time.Time) date {
	y, m, d := t.In(zone).Date()
	return date{y, m, d}
}

func (d date) midnight() time.Time { return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, zone) }

func (d date) next() date { return dateOf(time.Date(d.year, d.month, d.day+1, 12, 0, 0, 0, zone)) }

func (d date) weekday() time.Weekday { return d.midnight().Weekday() }

// Default returns the calendar of the embedded years with the default Config. The
// embedded files are checked by the package tests; should they ever fail to load, Default
// still returns a plain Monday-to-Friday calendar, whose Covers is false for every year,
// rather than panic.
func Default() *Calendar { return defaultCalendar() }

var defaultCalendar = sync.OnceValue(func() *Calendar {
	c, err := Load(embedded(), Config{})
	if err != nil {
		c, _ = newCalendar(Config{})
	}
	return c
})

// IsWorkingDay reports whether day's date (in UTC+7) is a working day: an ordinary weekday
// that is not a holiday, or a weekend day declared a make-up working day.
func (c *Calendar) IsWorkingDay(day time.Time) bool { return c.isWorking(dateOf(day)) }

func (c *Calendar) isWorking(d date) bool {
	if _, ok := c.workingWeekends[d]; ok {
		return true
	}
	if _, ok := c.holidays[d]; ok {
		return false
	}
	return c.workdays[d.weekday()]
}

// Covers reports whether the calendar has holiday data for year. Outside covered years
// every ordinary weekday counts as a working day.
func (c *Calendar) Covers(year int) bool {
	_, ok := c.sources[year]
	return ok
}

// NextYearDue is the day of December from which next year's holiday file is due. The
// Government announces the coming year's holidays and bridge days in the last months of
// the year, and deadlines counted in December already reach into January.
const NextYearDue = 1

// MissingYears returns the years the calendar needs on day and has no holiday file for:
// day's own year, and from NextYearDue December the next year too. Callers warn about
// them: deadlines in those years count plain weeks.
func (c *Calendar) MissingYears(day time.Time) []int {
	d := dateOf(day)
	var out []int
	if !c.Covers(d.year) {
		out = append(out, d.year)
	}
	if d.month == time.December && d.day >= NextYearDue && !c.Covers(d.year+1) {
		out = append(out, d.year+1)
	}
	return out
}

// Years returns the covered years in order.
func (c *Calendar) Years() []int {
	years := make([]int, 0, len(c.sources))
	for y := range c.sources {
		years = append(years, y)
	}
	slices.Sort(years)
	return years
}

// Source returns where a covered year's dates come from, as its file says.
func (c *Calendar) Source(year int) (string, bool) {
	s, ok := c.sources[year]
	return s, ok
}

// Holiday returns the name of the holiday on day's date, if it is one. Weekends inside a
// holiday break are not holidays unless the file lists them.
func (c *Calendar) Holiday(day time.Time) (name string, ok bool) {
	name, ok = c.holidays[dateOf(day)]
	return name, ok
}

// NextWorkingDay returns midnight (UTC+7) of the first working day after day's date.
func (c *Calendar) NextWorkingDay(day time.Time) time.Time {
	return c.nextWorking(dateOf(day)).midnight()
}

// nextWorking returns the first working day after d. It ends because Config always has
// at least one weekday and the holiday data is finite.
func (c *Calendar) nextWorking(d date) date {
	for d = d.next(); !c.isWorking(d); d = d.next() {
	}
	return d
}

// Receipt returns when a file received at t counts as received: t itself (in UTC+7) when t
// is on a working day before the cut-off, otherwise StartOfDay (08:00) of the next
// working day. 14:59 on a working day is that day; 15:00 and later is the next working day.
func (c *Calendar) Receipt(t time.Time) time.Time {
	t = t.In(zone)
	d := dateOf(t)
	if c.isWorking(d) && t.Sub(d.midnight()) < c.cutOff {
		return t
	}
	return c.nextWorking(d).midnight().Add(c.startOfDay)
}

// AddWorkingDays returns the due time of a limit of n working days for a file received at
// receivedAt.
//
// The day of receipt, as Receipt sets it, is day 0; the limit falls due at EndOfDay
// (17:00) of the n-th working day after it. So n = 0 is "the same working day": 17:00 of
// the receipt day. With the default calendar:
//
//	received Mon 10:00, n = 0  ->  Mon 17:00
//	received Mon 15:30, n = 0  ->  Tue 17:00 (after the cut-off)
//	received Mon 10:00, n = 2  ->  Wed 17:00
//	received Fri 16:00, n = 2  ->  Wed 17:00 (receipt Mon 08:00)
//	received Sat 09:00, n = 1  ->  Tue 17:00 (receipt Mon 08:00)
//
// A negative n counts as 0.
func (c *Calendar) AddWorkingDays(receivedAt time.Time, n int) time.Time {
	d := dateOf(c.Receipt(receivedAt))
	for range max(n, 0) {
		d = c.nextWorking(d)
	}
	return d.midnight().Add(c.endOfDay)
}

// WorkingDaysBetween returns how many whole working days have elapsed at to for a file
// received at from: the working days after the receipt day (day 0, as in AddWorkingDays)
// whose EndOfDay is not after to. It is 0 while the receipt day is under way, and
// WorkingDaysBetween(from, AddWorkingDays(from, n)) == n. It is 0 when to is before from.
func (c *Calendar) WorkingDaysBetween(from, to time.Time) int {
	n := 0
	for d := c.nextWorking(dateOf(c.Receipt(from))); !to.Before(d.midnight().Add(c.endOfDay)); d = c.nextWorking(d) {
		n++
	}
	return n
}

// WorkingTime returns how much office time lies between from and to: the
// parts of each working day between StartOfDay and EndOfDay (08:00 to
// 17:00). Nights, weekends and holidays do not count, so a step decided
// on Monday morning for a file sent on Friday afternoon took hours, not
// days. It is 0 when to is not after from.
func (c *Calendar) WorkingTime(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	from, to = from.In(zone), to.In(zone)
	var total time.Duration
	last := dateOf(to)
	for d := dateOf(from); ; d = d.next() {
		if c.isWorking(d) {
			open, shut := d.midnight().Add(c.startOfDay), d.midnight().Add(c.endOfDay)
			start, end := maxTime(open, from), minTime(shut, to)
			if end.After(start) {
				total += end.Sub(start)
			}
		}
		if d == last {
			return total
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
