//! Shift and maintenance calendars: when a rollout stage may touch a production line.
//!
//! A [`Calendar`] holds one entry per site: its IANA time zone, its named **shifts** (local
//! times of day, optionally on some weekdays only, crossing midnight allowed), its weekly
//! **maintenance** slots, its **one-off** dated windows, its **exclusions** (holidays, line
//! stops) and, for every rollout stage, the windows the stage may use. All times in the
//! document are local to the site; all answers are UTC instants ([`jiff::Timestamp`]).
//!
//! ```
//! use fleetpath::Calendar;
//!
//! let calendar = Calendar::from_json(r#"{"sites": [{
//!   "name": "plant-a", "time_zone": "Europe/Berlin",
//!   "shifts": [{"name": "2nd", "start": "14:00", "end": "22:00"},
//!              {"name": "3rd", "start": "22:00", "end": "06:00"}],
//!   "maintenance": [{"name": "weekend", "day": "sat", "start": "06:00", "end": "18:00"}],
//!   "stages": {"canary": ["2nd"], "early": ["3rd"], "production": ["weekend"]}
//! }]}"#)?;
//! let monday_noon: jiff::Timestamp = "2026-11-23T11:00:00Z".parse()?;
//! assert!(!calendar.is_open("plant-a", "press-1", "canary", monday_noon)?);
//! let next = calendar.next_window("plant-a", "press-1", "canary", monday_noon)?.unwrap();
//! assert_eq!(next.start.to_string(), "2026-11-23T13:00:00Z"); // 14:00 in Berlin (UTC+1)
//! assert_eq!(next.end.to_string(), "2026-11-23T21:00:00Z");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Rules
//!
//! - A window from `start` to `end` on local date `D` runs from `D start` to `D end`, or to
//!   `D+1 end` when `end` is not after `start` (a night shift). Local times become instants
//!   with jiff's *compatible* rule: a time in a spring-forward gap moves forward by the gap's
//!   length, an ambiguous time in a fall-back fold takes its first occurrence. So a 22:00–06:00
//!   shift lasts 7 hours on the spring-forward night and 9 on the fall-back night.
//! - A stage is open on a line when one of the stage's windows is open and no exclusion for the
//!   site (or for that line) covers the instant. Windows that touch or overlap merge into one.
//! - [`Calendar::next_window`] returns the open period that contains `after` (starting at
//!   `after`) or the next one, looking up to [`HORIZON_DAYS`] days ahead.
//! - The time-zone database is the one bundled with this library (jiff's copy of the IANA
//!   database), so every platform and binding gives the same answers.

use crate::Codes;
use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// How far ahead [`Calendar::next_window`] looks.
pub const HORIZON_DAYS: i32 = 400;

/// The document: one entry per site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// The sites.
    pub sites: Vec<SiteSpec>,
}

/// One site's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// The site's name (as devices name it).
    pub name: String,
    /// An IANA time zone, such as `Europe/Berlin`.
    pub time_zone: String,
    /// Daily shifts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shifts: Vec<ShiftSpec>,
    /// Weekly maintenance slots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintenance: Vec<WeeklySpec>,
    /// One-off dated windows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_off: Vec<DatedSpec>,
    /// Periods when nothing may run (for the whole site, or some lines).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<ExclusionSpec>,
    /// For each stage name, the names of the windows (shifts, maintenance slots, one-off
    /// windows) it may use.
    pub stages: BTreeMap<String, Vec<String>>,
}

/// A shift: local times of day, on every day or on some weekdays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftSpec {
    /// A name unique among the site's windows.
    pub name: String,
    /// Local start, `HH:MM`.
    pub start: String,
    /// Local end, `HH:MM`; not after `start` means the next day.
    pub end: String,
    /// Weekdays the shift starts on (`mon` … `sun`); absent: every day. An empty list is
    /// refused (`no_days`): remove the shift to switch it off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<String>>,
}

/// A weekly slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklySpec {
    /// A name unique among the site's windows.
    pub name: String,
    /// The weekday it starts on (`mon` … `sun`).
    pub day: String,
    /// Local start, `HH:MM`.
    pub start: String,
    /// Local end, `HH:MM`; not after `start` means the next day.
    pub end: String,
}

/// A window on given dates, in local date-times (`2026-12-24T06:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedSpec {
    /// A name unique among the site's windows.
    pub name: String,
    /// Local start.
    pub start: String,
    /// Local end, after `start`.
    pub end: String,
}

/// A period when nothing may run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExclusionSpec {
    /// Local start (`2026-12-24T00:00`).
    pub start: String,
    /// Local end, after `start`.
    pub end: String,
    /// The lines it stops; absent: the whole site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<String>>,
    /// Why (a holiday, a line stop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An open period, in UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// When it opens (or `after`, when it is already open).
    pub start: Timestamp,
    /// When it closes.
    pub end: Timestamp,
}

/// Devices a calendar cannot schedule in a stage: see [`Calendar::gaps`]. Its `Display` says
/// what is wrong in a sentence; serialized, `kind` is the stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarGap {
    /// The devices' site; `None` for devices whose fleet record names none.
    pub site: Option<String>,
    /// Their production line.
    pub line: String,
    /// The stage; `None` when no stage can be scheduled (`no_site`, `unknown_site`).
    pub stage: Option<String>,
    /// How many devices of the fleet are on that site and line.
    pub devices: usize,
    /// What is wrong.
    pub kind: GapKind,
}

/// What is wrong in a [`CalendarGap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// The devices name no site, so no site's calendar applies: the rollout stops with
    /// `unknown_site` when it reaches them.
    NoSite,
    /// The calendar has no site of that name: the rollout stops with `unknown_site`.
    UnknownSite,
    /// The site gives the stage no windows: the rollout stops with `unknown_stage`.
    UnknownStage,
    /// No window opens within [`HORIZON_DAYS`] days (exclusions cover them all): the rollout
    /// waits for these devices without end.
    NoWindow,
}

impl GapKind {
    /// The stable code: `no_site`, `unknown_site`, `unknown_stage` or `no_window`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::NoSite => "no_site",
            Self::UnknownSite => "unknown_site",
            Self::UnknownStage => "unknown_stage",
            Self::NoWindow => "no_window",
        }
    }
}

impl std::fmt::Display for CalendarGap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = if self.devices == 1 { "" } else { "s" };
        let who = format!("{} device{plural} on line {:?}", self.devices, self.line);
        let site = self.site.as_deref().unwrap_or_default();
        let stage = self.stage.as_deref().unwrap_or_default();
        match self.kind {
            GapKind::NoSite => write!(f, "{who}: no site in the fleet record, so no calendar applies"),
            GapKind::UnknownSite => write!(f, "site {site:?} ({who}): not in the calendar"),
            GapKind::UnknownStage => write!(f, "site {site:?} ({who}): no windows for stage {stage:?}"),
            GapKind::NoWindow => {
                write!(f, "site {site:?} ({who}): stage {stage:?} has no window within {HORIZON_DAYS} days")
            }
        }
    }
}

/// Why a calendar could not be loaded or queried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScheduleError {
    /// The JSON cannot be read as the document: malformed, an unknown or missing field, a
    /// wrong type. Its line, column and path say where.
    #[error(transparent)]
    #[code(source)]
    Json(#[from] crate::JsonError),
    /// A time zone the bundled IANA database does not know.
    #[error("{at}: unknown time zone {zone:?}")]
    #[code("unknown_time_zone")]
    UnknownTimeZone {
        /// Where.
        at: String,
        /// The zone, as written.
        zone: String,
    },
    /// A time of day, date-time or weekday that does not parse.
    #[error("{at}: invalid {what} {value:?}")]
    #[code("invalid_time")]
    InvalidTime {
        /// Where.
        at: String,
        /// `time of day (HH:MM)`, `local date-time` or `weekday (mon … sun)`.
        what: &'static str,
        /// As written.
        value: String,
    },
    /// A dated window or exclusion that does not end after it starts.
    #[error("{at}: ends at {end:?}, not after its start {start:?}")]
    #[code("empty_period")]
    EmptyPeriod {
        /// Where.
        at: String,
        /// As written.
        start: String,
        /// As written.
        end: String,
    },
    /// A shift with `"days": []`: it would never start. Remove the shift, or name its days
    /// (no `days` at all means every day).
    #[error("{at}: no days given; remove the shift to switch it off, or leave `days` out for every day")]
    #[code("no_days")]
    NoDays {
        /// Where.
        at: String,
    },
    /// Two windows of a site, or two sites, with the same name.
    #[error("{at}: the name {name:?} is used twice")]
    #[code("duplicate_name")]
    DuplicateName {
        /// Where.
        at: String,
        /// The name.
        name: String,
    },
    /// A stage names a window the site does not define.
    #[error("site {site:?}: stage {stage:?} uses unknown window {window:?}")]
    #[code("unknown_window")]
    UnknownWindow {
        /// The site.
        site: String,
        /// The stage.
        stage: String,
        /// The window name.
        window: String,
    },
    /// A query for a site the calendar does not have.
    #[error("unknown site {site:?}")]
    #[code("unknown_site")]
    UnknownSite {
        /// The site.
        site: String,
    },
    /// A query for a stage that has no windows at the site.
    #[error("site {site:?} has no windows for stage {stage:?}")]
    #[code("unknown_stage")]
    UnknownStage {
        /// The site.
        site: String,
        /// The stage.
        stage: String,
    },
}

/// A recurring or dated window, parsed.
#[derive(Debug, Clone)]
enum Rule {
    /// Starts on the given weekdays (all when empty) at `start`, ends at `end` (next day when
    /// not after `start`).
    Daily {
        days: Vec<Weekday>,
        start: Time,
        end: Time,
    },
    Dated {
        start: DateTime,
        end: DateTime,
    },
}

#[derive(Debug, Clone)]
struct Exclusion {
    start: Timestamp,
    end: Timestamp,
    lines: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
struct Site {
    zone: TimeZone,
    stages: BTreeMap<String, StageWindows>,
    exclusions: Vec<Exclusion>,
}

/// A stage's windows, laid out so that a query looks only at the days it scans.
#[derive(Debug, Clone, Default)]
struct StageWindows {
    /// Per weekday (Monday first), the daily windows that start on it: local start and end.
    daily: [Vec<(Time, Time)>; 7],
    /// Dated windows, by local start.
    dated: Vec<(DateTime, DateTime)>,
}

impl StageWindows {
    fn new<'a>(rules: impl Iterator<Item = &'a Rule>) -> Self {
        let mut out = Self::default();
        for rule in rules {
            match rule {
                Rule::Daily { days, start, end } => {
                    for (list, weekday) in out.daily.iter_mut().zip(WEEK) {
                        if days.is_empty() || days.contains(&weekday) {
                            list.push((*start, *end));
                        }
                    }
                }
                Rule::Dated { start, end } => out.dated.push((*start, *end)),
            }
        }
        out.dated.sort_unstable();
        out
    }

    /// The intervals of the windows that start on local date `day`.
    fn starting_on(&self, day: Date, zone: &TimeZone, out: &mut Vec<(Timestamp, Timestamp)>) {
        let weekday = usize::try_from(day.weekday().to_monday_zero_offset()).unwrap_or(0);
        for &(start, end) in &self.daily[weekday] {
            let end_day = if end > start { day } else { day.tomorrow().unwrap_or(Date::MAX) };
            out.push((instant(zone, day.to_datetime(start)), instant(zone, end_day.to_datetime(end))));
        }
        let first = self.dated.partition_point(|w| w.0.date() < day);
        for &(start, end) in self.dated[first..].iter().take_while(|w| w.0.date() == day) {
            out.push((instant(zone, start), instant(zone, end)));
        }
    }

    /// The intervals of the dated windows that start before `day` and run into it.
    fn running_into(&self, day: Date, zone: &TimeZone) -> Vec<(Timestamp, Timestamp)> {
        let before = &self.dated[..self.dated.partition_point(|w| w.0.date() < day)];
        before
            .iter()
            .filter(|w| w.1.date() >= day)
            .map(|&(start, end)| (instant(zone, start), instant(zone, end)))
            .collect()
    }
}

const WEEK: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// A validated calendar. See the [module docs](self). Cheap to clone (shared, immutable).
#[derive(Debug, Clone)]
pub struct Calendar {
    inner: std::sync::Arc<CalendarInner>,
}

#[derive(Debug)]
struct CalendarInner {
    spec: CalendarSpec,
    sites: BTreeMap<String, Site>,
}

fn parse_time(value: &str, at: impl Fn() -> String) -> Result<Time, ScheduleError> {
    let invalid = || ScheduleError::InvalidTime { at: at(), what: "time of day (HH:MM)", value: value.to_owned() };
    // Exactly HH:MM (jiff also accepts seconds and fractions; a calendar does not need them).
    if value.len() != 5 || value.as_bytes()[2] != b':' {
        return Err(invalid());
    }
    value.parse::<Time>().map_err(|_| invalid())
}

fn parse_local(value: &str, at: impl Fn() -> String) -> Result<DateTime, ScheduleError> {
    value.parse::<DateTime>().map_err(|_| ScheduleError::InvalidTime {
        at: at(),
        what: "local date-time",
        value: value.to_owned(),
    })
}

fn parse_weekday(value: &str, at: impl Fn() -> String) -> Result<Weekday, ScheduleError> {
    Ok(match value {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => {
            return Err(ScheduleError::InvalidTime {
                at: at(), what: "weekday (mon … sun)", value: value.to_owned()
            });
        }
    })
}

/// A local date-time as an instant, with jiff's compatible disambiguation.
fn instant(zone: &TimeZone, local: DateTime) -> Timestamp {
    zone.to_ambiguous_timestamp(local).compatible().unwrap_or(Timestamp::MAX)
}

impl Calendar {
    /// Reads and checks a calendar from JSON.
    ///
    /// # Errors
    /// [`ScheduleError`]: malformed JSON, an unknown time zone, an invalid time, an empty
    /// period, a duplicate name, or a stage using an unknown window.
    pub fn from_json(json: &str) -> Result<Self, ScheduleError> {
        Self::new(crate::document::from_str("calendar", json)?)
    }

    /// Reads and checks a calendar from a parsed JSON value.
    ///
    /// # Errors
    /// As [`Calendar::from_json`] (JSON errors without line or column).
    pub fn from_value(value: serde_json::Value) -> Result<Self, ScheduleError> {
        Self::new(crate::document::from_value("calendar", value)?)
    }

    /// Checks a calendar document.
    ///
    /// # Errors
    /// As [`Calendar::from_json`], except JSON errors.
    pub fn new(spec: CalendarSpec) -> Result<Self, ScheduleError> {
        let mut sites = BTreeMap::new();
        for (i, site) in spec.sites.iter().enumerate() {
            let here = format!("sites[{i}]");
            let zone = TimeZone::get(&site.time_zone).map_err(|_| ScheduleError::UnknownTimeZone {
                at: format!("{here}.time_zone"),
                zone: site.time_zone.clone(),
            })?;
            let mut windows = BTreeMap::new();
            let mut add = |name: &str, at: String, rule: Rule| {
                if windows.insert(name.to_owned(), rule).is_some() {
                    return Err(ScheduleError::DuplicateName { at, name: name.to_owned() });
                }
                Ok(())
            };
            for (k, shift) in site.shifts.iter().enumerate() {
                let at = |field: &str| format!("{here}.shifts[{k}].{field}");
                let days = match &shift.days {
                    None => Vec::new(),
                    // An empty list would mean "every day" to the rule below: the opposite of
                    // what someone emptying the list to switch a shift off wants.
                    Some(days) if days.is_empty() => return Err(ScheduleError::NoDays { at: at("days") }),
                    Some(days) => {
                        days.iter().map(|d| parse_weekday(d, || at("days"))).collect::<Result<Vec<_>, _>>()?
                    }
                };
                let rule = Rule::Daily {
                    days,
                    start: parse_time(&shift.start, || at("start"))?,
                    end: parse_time(&shift.end, || at("end"))?,
                };
                add(&shift.name, format!("{here}.shifts[{k}]"), rule)?;
            }
            for (k, slot) in site.maintenance.iter().enumerate() {
                let at = |field: &str| format!("{here}.maintenance[{k}].{field}");
                let rule = Rule::Daily {
                    days: vec![parse_weekday(&slot.day, || at("day"))?],
                    start: parse_time(&slot.start, || at("start"))?,
                    end: parse_time(&slot.end, || at("end"))?,
                };
                add(&slot.name, format!("{here}.maintenance[{k}]"), rule)?;
            }
            for (k, dated) in site.one_off.iter().enumerate() {
                let at = |field: &str| format!("{here}.one_off[{k}].{field}");
                let (start, end) = (parse_local(&dated.start, || at("start"))?, parse_local(&dated.end, || at("end"))?);
                if end <= start {
                    return Err(ScheduleError::EmptyPeriod {
                        at: format!("{here}.one_off[{k}]"),
                        start: dated.start.clone(),
                        end: dated.end.clone(),
                    });
                }
                add(&dated.name, format!("{here}.one_off[{k}]"), Rule::Dated { start, end })?;
            }
            let mut exclusions = Vec::new();
            for (k, ex) in site.exclusions.iter().enumerate() {
                let at = |field: &str| format!("{here}.exclusions[{k}].{field}");
                let (start, end) = (parse_local(&ex.start, || at("start"))?, parse_local(&ex.end, || at("end"))?);
                if end <= start {
                    return Err(ScheduleError::EmptyPeriod {
                        at: format!("{here}.exclusions[{k}]"),
                        start: ex.start.clone(),
                        end: ex.end.clone(),
                    });
                }
                exclusions.push(Exclusion {
                    start: instant(&zone, start),
                    end: instant(&zone, end),
                    lines: ex.lines.clone(),
                });
            }
            let mut stages = BTreeMap::new();
            for (stage, names) in &site.stages {
                if let Some(window) = names.iter().find(|n| !windows.contains_key(n.as_str())) {
                    return Err(ScheduleError::UnknownWindow {
                        site: site.name.clone(),
                        stage: stage.clone(),
                        window: window.clone(),
                    });
                }
                stages.insert(stage.clone(), StageWindows::new(names.iter().filter_map(|n| windows.get(n))));
            }
            let parsed = Site { zone, stages, exclusions };
            if sites.insert(site.name.clone(), parsed).is_some() {
                return Err(ScheduleError::DuplicateName { at: here, name: site.name.clone() });
            }
        }
        Ok(Self { inner: std::sync::Arc::new(CalendarInner { spec, sites }) })
    }

    /// The document, as given.
    pub fn spec(&self) -> &CalendarSpec {
        &self.inner.spec
    }

    /// Whether `stage` may run on `line` at `site` at instant `at`.
    ///
    /// # Errors
    /// [`ScheduleError::UnknownSite`] or [`ScheduleError::UnknownStage`].
    pub fn is_open(&self, site: &str, line: &str, stage: &str, at: Timestamp) -> Result<bool, ScheduleError> {
        Ok(self.next_window(site, line, stage, at)?.is_some_and(|w| w.start == at))
    }

    /// The open period for `stage` on `line` that contains `after` (from `after` on), or the
    /// next one within [`HORIZON_DAYS`] days; `None` when there is none.
    ///
    /// # Errors
    /// [`ScheduleError::UnknownSite`] or [`ScheduleError::UnknownStage`].
    ///
    /// # Complexity
    /// Day by day from the day before `after` (last night's shift may still be running) until
    /// an open period ends before the next day begins: each day costs a scan of the windows
    /// that start on it, whatever the number of windows on other days. The site's exclusions
    /// for the line are filtered once per query.
    pub fn next_window(
        &self,
        site_name: &str,
        line: &str,
        stage: &str,
        after: Timestamp,
    ) -> Result<Option<Window>, ScheduleError> {
        let site =
            self.inner.sites.get(site_name).ok_or_else(|| ScheduleError::UnknownSite { site: site_name.to_owned() })?;
        let windows = site
            .stages
            .get(stage)
            .ok_or_else(|| ScheduleError::UnknownStage { site: site_name.to_owned(), stage: stage.to_owned() })?;
        let exclusions: Vec<&Exclusion> =
            site.exclusions.iter().filter(|e| e.lines.as_ref().is_none_or(|ls| ls.iter().any(|l| l == line))).collect();
        let first_after = |periods: Vec<(Timestamp, Timestamp)>| {
            periods
                .into_iter()
                .find(|&(_, end)| end > after)
                .map(|(start, end)| Window { start: start.max(after), end })
        };
        let mut day = site.zone.to_datetime(after).date().yesterday().unwrap_or(Date::MIN);
        // Periods that may still grow: they reach the start of the next day to scan.
        let mut running = windows.running_into(day, &site.zone);
        for _ in 0..HORIZON_DAYS {
            windows.starting_on(day, &site.zone, &mut running);
            let Ok(next) = day.tomorrow() else { break };
            let next_starts = instant(&site.zone, next.to_datetime(Time::midnight()));
            let merged = merge(std::mem::take(&mut running));
            // Windows of later days start at `next_starts` or after: a period that ends
            // before it is final.
            match first_after(subtract(&merged, &exclusions)) {
                Some(window) if window.end < next_starts => return Ok(Some(window)),
                _ => running = merged.into_iter().filter(|&(_, end)| end >= next_starts).collect(),
            }
            day = next;
        }
        // At the horizon: a period that reaches it counts, however long it goes on.
        Ok(first_after(subtract(&running, &exclusions)))
    }

    /// What this calendar cannot schedule for a fleet: every (site, line) of `fleet` and every
    /// stage in `stages` whose rollout would stop (a device without a site, a site or a stage
    /// the calendar does not have) or wait forever (no window within [`HORIZON_DAYS`] days of
    /// `from`, for example a line excluded for longer). One gap per (site, line) when the site
    /// itself is missing, else one per stage that cannot be scheduled; ordered by site, line,
    /// then the order of `stages`; empty when every device can be scheduled in every stage.
    ///
    /// A rollout finds these only when it reaches the stage, days in; this finds them before it
    /// starts (`fleetpath check --calendar --fleet` uses it).
    ///
    /// ```
    /// use fleetpath::schedule::GapKind;
    /// use fleetpath::{Calendar, Fleet};
    ///
    /// let calendar = Calendar::from_json(r#"{"sites": [{
    ///   "name": "plant-a", "time_zone": "Europe/Berlin",
    ///   "shifts": [{"name": "day", "start": "06:00", "end": "14:00"}],
    ///   "stages": {"canary": ["day"]}
    /// }]}"#)?;
    /// let fleet = Fleet::from_csv("id,model,version,line,site\nd1,m,1.0,press-1,plant-a\nd2,m,1.0,press-2,plant-b\n")?;
    /// let gaps = calendar.gaps(&fleet, &["canary", "production"], "2026-11-23T11:00:00Z".parse()?);
    /// let kinds: Vec<_> = gaps.iter().map(|g| (g.line.as_str(), g.stage.as_deref(), g.kind)).collect();
    /// assert_eq!(kinds, [
    ///     ("press-1", Some("production"), GapKind::UnknownStage),
    ///     ("press-2", None, GapKind::UnknownSite),
    /// ]);
    /// assert_eq!(gaps[1].to_string(), "site \"plant-b\" (1 device on line \"press-2\"): not in the calendar");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Complexity
    /// One pass over the devices, then one [`Calendar::next_window`] per (site, line, stage).
    #[must_use]
    pub fn gaps(&self, fleet: &crate::Fleet, stages: &[&str], from: Timestamp) -> Vec<CalendarGap> {
        let mut groups: BTreeMap<(Option<&str>, &str), usize> = BTreeMap::new();
        for device in fleet.devices() {
            *groups.entry((device.site, device.line)).or_default() += 1;
        }
        let mut gaps = Vec::new();
        for ((site, line), devices) in groups {
            let gap = |stage: Option<&str>, kind| CalendarGap {
                site: site.map(str::to_owned),
                line: line.to_owned(),
                stage: stage.map(str::to_owned),
                devices,
                kind,
            };
            let Some(name) = site else {
                gaps.push(gap(None, GapKind::NoSite));
                continue;
            };
            if !self.inner.sites.contains_key(name) {
                gaps.push(gap(None, GapKind::UnknownSite));
                continue;
            }
            for &stage in stages {
                match self.next_window(name, line, stage, from) {
                    Ok(Some(_)) => {}
                    Ok(None) => gaps.push(gap(Some(stage), GapKind::NoWindow)),
                    Err(_) => gaps.push(gap(Some(stage), GapKind::UnknownStage)),
                }
            }
        }
        gaps
    }
}

/// Sorts and merges touching or overlapping intervals.
fn merge(mut intervals: Vec<(Timestamp, Timestamp)>) -> Vec<(Timestamp, Timestamp)> {
    intervals.retain(|(s, e)| s < e);
    intervals.sort_unstable();
    let mut out: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(intervals.len());
    for (s, e) in intervals {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Removes the exclusions from sorted, disjoint intervals.
fn subtract(intervals: &[(Timestamp, Timestamp)], exclusions: &[&Exclusion]) -> Vec<(Timestamp, Timestamp)> {
    let mut out = intervals.to_vec();
    let (Some(&(first, _)), Some(&(_, last))) = (intervals.first(), intervals.last()) else { return out };
    for ex in exclusions.iter().filter(|ex| ex.start < last && first < ex.end) {
        let mut next = Vec::with_capacity(out.len() + 1);
        for (s, e) in out {
            if ex.end <= s || e <= ex.start {
                next.push((s, e));
                continue;
            }
            if s < ex.start {
                next.push((s, ex.start));
            }
            if ex.end < e {
                next.push((ex.end, e));
            }
        }
        out = next;
    }
    out
}

crate::document::checked_documents! {
    Calendar => "calendar";
}
