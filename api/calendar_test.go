package api

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
)

func TestCalendarWarnings(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := &Server{cal: calendar.Default(), log: slog.New(slog.NewTextHandler(&logs, nil)), calendarWarned: map[int]string{}}
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, civil.Zone) }

	require.Empty(t, s.calendarWarnings(at(2026, 11, 30, 16)), "the shipped years cover 2026 until December")
	ws := s.calendarWarnings(at(2026, 12, 1, 8))
	require.Len(t, ws, 1, "from 1 December the 2027 file is due and missing")
	require.EqualValues(t, 2027, ws[0].GetYear())
	require.Contains(t, ws[0].GetMessage(), "2027.json")

	s.logCalendarWarnings(at(2026, 12, 1, 8))
	s.logCalendarWarnings(at(2026, 12, 1, 9))
	require.Equal(t, 1, strings.Count(logs.String(), "calendar: holiday file missing"), "once a day, not on every refresh")
	require.Contains(t, logs.String(), "year=2027")
	s.logCalendarWarnings(at(2026, 12, 2, 8))
	require.Equal(t, 2, strings.Count(logs.String(), "calendar: holiday file missing"), "and again the next day")
}
