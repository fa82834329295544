// Package civil owns the pure rules of Vietnamese civil status that the birth and death
// groups rely on: personal ID numbers, provinces, communes and health-care facilities,
// full names, the child health-insurance card, the funeral allowance and the survivor
// benefit.
//
// Everything here is a pure function of its arguments and of data embedded at build time
// (data/*.json). It does no other I/O, keeps no mutable state, and must not import any
// other lienthong package: workflows, activities, servers and mock agencies import civil,
// never the other way round.
//
// Dates are civil dates in Vietnam's time zone, Zone (UTC+7, no daylight saving time).
// A time.Time passed as a date is read as its calendar day in Zone.
package civil
