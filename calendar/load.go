package calendar

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed data/*.json
var dataFS embed.FS

// embedded returns the shipped year files as a flat file system.
func embedded() fs.FS {
	sub, err := fs.Sub(dataFS, "data")
	if err != nil {
		// fs.Sub fails only for an invalid literal path.
		panic(err)
	}
	return sub
}

// Embedded returns the year files shipped with lienthong, e.g. to copy them into an
// operator's directory.
func Embedded() fs.FS { return embedded() }

// yearFile is the shape of one year's file.
type yearFile struct {
	Year            int              `json:"year"`
	Source          string           `json:"source"`
	Note            string           `json:"note"`
	Holidays        []holidayEntry   `json:"holidays"`
	WorkingWeekends []workingWeekend `json:"working_weekends"`
}

type holidayEntry struct {
	Date string `json:"date"`
	Name string `json:"name"`
	// OnWeekend marks a holiday deliberately listed on a Saturday or Sunday, e.g. the
	// legal day whose compensatory day is listed separately. Without it such a date is
	// taken for a typo.
	OnWeekend bool `json:"on_weekend"`
}

type workingWeekend struct {
	Date string `json:"date"`
	Name string `json:"name"`
}

// Load reads every *.json file at the top of fsys, one year per file, and returns their
// calendar with cfg. Errors name the file and the field, e.g.
// `calendar: 2026.json: holidays[3].date: "2026-02-30" is not a YYYY-MM-DD date`.
func Load(fsys fs.FS, cfg Config) (*Calendar, error) {
	c, err := newCalendar(cfg)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, fmt.Errorf("calendar: listing files: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("calendar: no *.json year files found")
	}
	slices.Sort(names)
	fileOfYear := map[int]string{}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("calendar: %s: %w", name, err)
		}
		f, err := parseYear(name, raw)
		if err != nil {
			return nil, fmt.Errorf("calendar: %s: %w", name, err)
		}
		if other, ok := fileOfYear[f.year]; ok {
			return nil, fmt.Errorf("calendar: %s: year: %d is already loaded from %s", name, f.year, other)
		}
		fileOfYear[f.year] = name
		c.sources[f.year] = f.source
		for d, n := range f.holidays {
			c.holidays[d] = n
		}
		for d, n := range f.workingWeekends {
			c.workingWeekends[d] = n
		}
	}
	return c, nil
}

func newCalendar(cfg Config) (*Calendar, error) {
	c := &Calendar{
		cutOff:          cmp.Or(cfg.CutOff, DefaultCutOff),
		endOfDay:        cmp.Or(cfg.EndOfDay, DefaultEndOfDay),
		startOfDay:      cmp.Or(cfg.StartOfDay, DefaultStartOfDay),
		holidays:        map[date]string{},
		workingWeekends: map[date]string{},
		sources:         map[int]string{},
	}
	weekdays := cfg.Weekdays
	if len(weekdays) == 0 {
		weekdays = DefaultWeekdays()
	}
	for _, w := range weekdays {
		if w < time.Sunday || w > time.Saturday {
			return nil, fmt.Errorf("calendar: config: Weekdays: %d is not a weekday", w)
		}
		c.workdays[w] = true
	}
	const day = 24 * time.Hour
	switch {
	case c.cutOff < 0 || c.cutOff >= day:
		return nil, fmt.Errorf("calendar: config: CutOff %v is not a time of day", c.cutOff)
	case c.endOfDay < 0 || c.endOfDay >= day:
		return nil, fmt.Errorf("calendar: config: EndOfDay %v is not a time of day", c.endOfDay)
	case c.startOfDay < 0 || c.startOfDay >= day:
		return nil, fmt.Errorf("calendar: config: StartOfDay %v is not a time of day", c.startOfDay)
	case c.cutOff > c.endOfDay:
		// Otherwise a file received between the two would be due before it arrived.
		return nil, fmt.Errorf("calendar: config: CutOff %v is after EndOfDay %v", c.cutOff, c.endOfDay)
	case c.startOfDay >= c.endOfDay:
		return nil, fmt.Errorf("calendar: config: StartOfDay %v is not before EndOfDay %v", c.startOfDay, c.endOfDay)
	}
	return c, nil
}

type parsedYear struct {
	year            int
	source          string
	holidays        map[date]string
	workingWeekends map[date]string
}

// parseYear decodes and checks one file. Its errors name the field; Load adds the file.
func parseYear(name string, raw []byte) (*parsedYear, error) {
	var f yearFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON object")
	}
	if f.Year < 1900 || f.Year > 9999 {
		return nil, fmt.Errorf("year: %d is missing or not a four-digit year", f.Year)
	}
	stem := strings.TrimSuffix(path.Base(name), ".json")
	if y, err := strconv.Atoi(stem); err == nil && y != f.Year {
		return nil, fmt.Errorf("year: %d does not match the file name", f.Year)
	}
	if strings.TrimSpace(f.Source) == "" {
		return nil, errors.New("source: must name the documents the dates come from")
	}
	p := &parsedYear{year: f.Year, source: f.Source, holidays: map[date]string{}, workingWeekends: map[date]string{}}
	seen := map[date]string{} // date -> the field that listed it
	check := func(field, s, name string) (date, error) {
		t, err := time.ParseInLocation(time.DateOnly, s, zone)
		if err != nil {
			return date{}, fmt.Errorf("%s.date: %q is not a YYYY-MM-DD date", field, s)
		}
		d := dateOf(t)
		if d.year != f.Year {
			return date{}, fmt.Errorf("%s.date: %s is not in %d", field, s, f.Year)
		}
		if other, ok := seen[d]; ok {
			return date{}, fmt.Errorf("%s.date: %s is already listed as %s", field, s, other)
		}
		seen[d] = field
		if strings.TrimSpace(name) == "" {
			return date{}, fmt.Errorf("%s.name: must not be empty", field)
		}
		return d, nil
	}
	for i, h := range f.Holidays {
		field := fmt.Sprintf("holidays[%d]", i)
		d, err := check(field, h.Date, h.Name)
		if err != nil {
			return nil, err
		}
		weekend := isWeekend(d.weekday())
		if weekend && !h.OnWeekend {
			return nil, fmt.Errorf("%s.date: %s is a %s; set \"on_weekend\": true to list a holiday on a weekend", field, h.Date, d.weekday())
		}
		if !weekend && h.OnWeekend {
			return nil, fmt.Errorf("%s.on_weekend: %s is a %s, not a weekend day", field, h.Date, d.weekday())
		}
		p.holidays[d] = h.Name
	}
	for i, w := range f.WorkingWeekends {
		field := fmt.Sprintf("working_weekends[%d]", i)
		d, err := check(field, w.Date, w.Name)
		if err != nil {
			return nil, err
		}
		if !isWeekend(d.weekday()) {
			return nil, fmt.Errorf("%s.date: %s is a %s, not a weekend day", field, w.Date, d.weekday())
		}
		p.workingWeekends[d] = w.Name
	}
	return p, nil
}

// isWeekend reports whether w is a Saturday or Sunday. Year files describe the
// Government's schedule, which is built on a Monday-to-Friday week whatever Config says.
func isWeekend(w time.Weekday) bool { return w == time.Saturday || w == time.Sunday }
