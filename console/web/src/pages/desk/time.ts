// The time a case has left, in working days (and hours when the engine gives them).
import { fmt } from '../../i18n';
import type { DeskStrings } from './strings';

/** Hours in a working day, for turning working hours into days and hours. */
export const WORKING_DAY_HOURS = 8;

export interface Left {
  text: string;
  late: boolean;
  /** The last working day or less. */
  soon: boolean;
}

export function timeLeft(
  s: DeskStrings,
  c: { workingHoursLeft?: number; workingDaysLeft?: number; overdue?: boolean; dueAt?: string },
): Left | null {
  if (typeof c.workingHoursLeft === 'number') {
    const h = c.workingHoursLeft;
    const late = h < 0 || !!c.overdue;
    const abs = Math.abs(h);
    const d = Math.floor(abs / WORKING_DAY_HOURS);
    const hh = Math.round((abs - d * WORKING_DAY_HOURS) * 10) / 10;
    const text = late
      ? d > 0
        ? fmt(s.lateDaysHours, { d, h: hh })
        : fmt(s.lateHours, { h: hh })
      : d > 0
        ? fmt(s.leftDaysHours, { d, h: hh })
        : fmt(s.leftHours, { h: hh });
    return { text, late, soon: !late && abs <= WORKING_DAY_HOURS };
  }
  if (typeof c.workingDaysLeft === 'number') {
    const d = c.workingDaysLeft;
    const late = d < 0 || !!c.overdue;
    const text = late ? fmt(s.lateDays, { d: Math.max(1, Math.abs(d)) }) : d === 0 ? s.lastDay : fmt(s.leftDays, { d });
    return { text, late, soon: !late && d <= 1 };
  }
  if (c.dueAt) {
    // The engine gave only the deadline (workingDaysLeft 0 is omitted in JSON): compare with now.
    const late = !!c.overdue || new Date(c.dueAt).getTime() < Date.now();
    return { text: late ? fmt(s.lateDays, { d: 1 }) : s.lastDay, late, soon: !late };
  }
  return null;
}

/** "3 phút", "2 giờ 5 phút": the age of something, from seconds. */
export function age(s: DeskStrings, seconds: number): string {
  if (seconds < 60) return fmt(s.ageSec, { n: seconds });
  const m = Math.floor(seconds / 60);
  if (m < 60) return fmt(s.ageMin, { n: m });
  const h = Math.floor(m / 60);
  if (h < 24) return fmt(s.ageHour, { h, m: m % 60 });
  return fmt(s.ageDay, { d: Math.floor(h / 24), h: h % 24 });
}
