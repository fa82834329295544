package civil

import "time"

// Zone is Vietnam's time zone: UTC+7 all year, no daylight saving time. It is a fixed
// zone so that lienthong does not depend on the host's tzdata.
var Zone = time.FixedZone("ICT", 7*60*60)

// dateIn returns midnight in Zone of t's calendar day in Zone.
func dateIn(t time.Time) time.Time {
	y, m, d := t.In(Zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Zone)
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// DaysBetween returns the number of calendar days from from's day to to's day, both
// read in Zone: 1 from one evening to the next morning. It is negative when to's day
// comes first.
func DaysBetween(from, to time.Time) int {
	a, b := dateIn(from), dateIn(to)
	// Zone has no daylight saving time, so every day is 24 hours long.
	return int(b.Sub(a) / (24 * time.Hour))
}
