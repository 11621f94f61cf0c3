//! Firmware version strings as vendors write them, and version ranges.
//!
//! # Versions
//!
//! [`Version`] accepts what firmware vendors actually write, which is wider than semver:
//!
//! | input              | accepted because                                 |
//! |--------------------|--------------------------------------------------|
//! | `6.15.008`         | leading zeros are allowed in numeric components  |
//! | `V1.04`, `v5.6.14` | an optional `v` / `V` prefix                     |
//! | `0.48.0.34`        | one to [`MAX_COMPONENTS`] numeric components     |
//! | `7.6.0-build3401`  | a semver pre-release suffix                      |
//! | `2.1+b42`          | a semver build-metadata suffix                   |
//!
//! Grammar: `[vV] N ( '.' N ){0,7} [ '-' pre-release ] [ '+' build ]`, where `N` is one or more
//! ASCII digits that fit in a `u64`, and the pre-release and build parts follow semver's rules
//! for identifiers (checked by the [`semver`] crate). Nothing else is accepted: no whitespace,
//! no empty components, no trailing dot.
//!
//! ## Ordering and equality
//!
//! 1. Numeric components compare as numbers, left to right; missing trailing components count
//!    as zero. So `6.15.008 == 6.15.8 == 6.15.8.0` and `6.15.8 < 6.15.10 < 6.15.10.1`.
//! 2. Then the pre-release, with semver's precedence: a version with a pre-release is older
//!    than the same version without one (`7.6.0-build3401 < 7.6.0`); identifiers compare
//!    numerically when numeric, lexically otherwise.
//! 3. Then the build metadata, exactly as [`semver::Version`] orders it. Semver gives build
//!    metadata no precedence, but a total order that agrees with equality needs a tie-break;
//!    this is the one the semver crate uses, so both types always agree.
//!
//! Equality and hashing follow that order: the `v` prefix and leading zeros are spelling, not
//! identity. [`Display`](std::fmt::Display) keeps the spelling the user wrote, and
//! [`Version::normalized`] gives the canonical one.
//!
//! A hyphen suffix is a *pre-release*, as in semver: a vendor build written `7.6.0-build3401`
//! sorts before `7.6.0`. Write `7.6.0+build3401` when the suffix is a build of a final release.
//!
//! # Ranges
//!
//! [`VersionRange`] is a set of comparators, for rules such as "everything older than the
//! bridge". It reuses semver's comparator semantics (Cargo's dialect, as implemented by
//! [`semver::VersionReq`]) with these documented differences:
//!
//! 1. **A bare version means `=`**, not `^`. In Cargo `5.6.14` means `^5.6.14`; in a firmware
//!    manifest a bare version naming a whole major line would be a dangerous surprise.
//! 2. **Leading zeros, a `v` prefix and more than three components** are accepted in bounds
//!    (`>=0.48.0.34`, `<V6.15.008`), as in [`Version`].
//! 3. **Precision.** A bound written with fewer than three components, or ending in a wildcard,
//!    is a *prefix*: `=5.6` and `5.6.*` match every `5.6.x…`, `>5.6` means "newer than every
//!    5.6.x", `<=5.6` means "not newer than any 5.6.x". A bound with three or more components
//!    names one exact version (missing components are zero): `<=5.6.14` does not match
//!    `5.6.14.1`. When a version's components equal all the bound's given components, the
//!    pre-release decides exactly as semver's rule for that operator does (so `>=3` and `3.*`
//!    do not match `3.1.1-0`, while `^3.1` ignores pre-releases). On semver inputs the
//!    result is exactly semver's; a property test compares them.
//! 4. **Tilde and caret on four or more components**: `~a.b.c.d` keeps `a.b` fixed (as `~a.b.c`
//!    does), `^a.b.c.d` keeps everything up to the first non-zero component fixed (as `^a.b.c`
//!    does), so `^0.48.0.34` means `>=0.48.0.34, <0.49`.
//! 5. **`||` alternatives** (npm style) are accepted: `5.6.* || >=6.2, <6.3`. Semver has none.
//! 6. A wildcard may follow any operator (`>=5.*` is `>=5`) and may appear beside other
//!    comparators.
//!
//! Unchanged from semver: comparators in one set are joined with `,` and must all match;
//! whitespace around operators is allowed; build metadata in a bound is ignored; and a version
//! with a pre-release matches a comparator set only if some comparator in that set names the
//! same numeric version with a pre-release (`>=7.6.0-rc.1` matches `7.6.0-rc.2`, `>=7.5` does
//! not match `7.6.0-rc.2`).
//!
//! ```
//! use fleetpath::{Version, VersionRange};
//!
//! let v: Version = "v6.15.008".parse()?;
//! assert_eq!(v, "6.15.8".parse()?);
//! assert_eq!(v.to_string(), "v6.15.008");
//! assert_eq!(v.normalized(), "6.15.8");
//! assert!(v < "6.15.10".parse()?);
//!
//! let legacy: VersionRange = ">=5.0, <5.6.30".parse()?;
//! assert!(legacy.matches(&"5.6.14".parse()?));
//! assert!(!legacy.matches(&"5.6.30".parse()?));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::Codes;
use crate::u32_of;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use semver::{BuildMetadata, Prerelease};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest number of numeric components a [`Version`] may have.
pub const MAX_COMPONENTS: usize = 8;

/// Why a version string or a version range could not be parsed.
///
/// Every variant names the input it was given. [`VersionError::code`] is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VersionError {
    /// The input was empty.
    #[error("empty version string")]
    #[code("empty_version")]
    Empty,
    /// A character that has no place at that position.
    #[error("invalid version {input:?}: unexpected character {found:?} at position {position}")]
    #[code("unexpected_character")]
    UnexpectedCharacter {
        /// The whole input.
        input: String,
        /// The offending character.
        found: char,
        /// Its byte offset in `input`.
        position: usize,
    },
    /// A numeric component with no digits, as in `5..6` or `5.6.`.
    #[error("invalid version {input:?}: numeric component {index} is empty")]
    #[code("empty_component")]
    EmptyComponent {
        /// The whole input.
        input: String,
        /// One-based index of the empty component.
        index: usize,
    },
    /// A numeric component larger than `u64::MAX`.
    #[error("invalid version {input:?}: numeric component {index} does not fit in 64 bits")]
    #[code("component_overflow")]
    ComponentOverflow {
        /// The whole input.
        input: String,
        /// One-based index of the component.
        index: usize,
    },
    /// More than [`MAX_COMPONENTS`] numeric components.
    #[error("invalid version {input:?}: more than {max} numeric components")]
    #[code("too_many_components")]
    TooManyComponents {
        /// The whole input.
        input: String,
        /// The limit, [`MAX_COMPONENTS`].
        max: usize,
    },
    /// The pre-release suffix breaks semver's identifier rules.
    #[error("invalid version {input:?}: bad pre-release {pre:?}: {reason}")]
    #[code("invalid_prerelease")]
    InvalidPrerelease {
        /// The whole input.
        input: String,
        /// The text after `-`.
        pre: String,
        /// What the semver parser said.
        reason: String,
    },
    /// The build-metadata suffix breaks semver's identifier rules.
    #[error("invalid version {input:?}: bad build metadata {build:?}: {reason}")]
    #[code("invalid_build_metadata")]
    InvalidBuildMetadata {
        /// The whole input.
        input: String,
        /// The text after `+`.
        build: String,
        /// What the semver parser said.
        reason: String,
    },
    /// [`Version::to_semver`] on a version with a non-zero fourth (or later) component.
    #[error("version {version:?} has more than three significant components and is not semver")]
    #[code("not_semver")]
    NotSemver {
        /// The version, as written.
        version: String,
    },
    /// The range string was empty, or one of its `||` alternatives was.
    #[error("invalid range {input:?}: empty range")]
    #[code("empty_range")]
    EmptyRange {
        /// The whole input.
        input: String,
    },
    /// A range comparator without a version, as in `>=5.0,` or `>=`.
    #[error("invalid range {input:?}: comparator {index} has no version")]
    #[code("empty_comparator")]
    EmptyComparator {
        /// The whole input.
        input: String,
        /// One-based index of the comparator in its `||` alternative.
        index: usize,
    },
    /// A character that has no place at that position of a range. The message adds what to
    /// write instead for syntax of other ecosystems (space-separated comparators, `==`, `!=`,
    /// `=>`).
    #[error("invalid range {input:?}: unexpected character {found:?} at position {position}{}", range_hint(input, *position))]
    #[code("range_unexpected_character")]
    RangeUnexpectedCharacter {
        /// The whole input.
        input: String,
        /// The offending character.
        found: char,
        /// Its byte offset in `input`.
        position: usize,
    },
    /// A bound in a range is not a valid version.
    #[error("invalid range {input:?}: {source}")]
    #[code("invalid_range_bound")]
    RangeBound {
        /// The whole range input.
        input: String,
        /// What was wrong with the bound.
        source: Box<VersionError>,
    },
}

/// A firmware version, as a vendor writes it. See the [module docs](self) for the grammar and
/// the ordering rules.
///
/// Serializes as the string the user wrote.
#[derive(Clone)]
pub struct Version {
    /// Shared: a clone (such as a hop's) copies no text.
    raw: Arc<str>,
    key: VersionKey,
    /// How many numeric components were written.
    written: u8,
}

/// What a [`Version`]'s equality, hash and order are made of: everything but its spelling.
/// A map keyed by it (such as a graph's release index) holds no reference to the text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct VersionKey {
    /// Numeric components with trailing zeros removed (`6.15.0` is `[6, 15]`).
    numbers: Components,
    pre: Prerelease,
    build: BuildMetadata,
}

/// How many trimmed components a [`Version`] keeps without a heap allocation.
const INLINE: usize = 4;

/// The trimmed numeric components of a [`Version`]: up to [`INLINE`] in place (nearly every
/// version), more on the heap. Parsing allocates only the text; cloning allocates nothing.
/// Compares and hashes as the slice of components.
#[derive(Clone)]
enum Components {
    Inline(u8, [u64; INLINE]),
    Heap(Box<[u64]>),
}

impl Components {
    fn new(values: &[u64]) -> Self {
        match u8::try_from(values.len()) {
            Ok(len) if values.len() <= INLINE => {
                let mut inline = [0; INLINE];
                for (slot, &v) in inline.iter_mut().zip(values) {
                    *slot = v;
                }
                Self::Inline(len, inline)
            }
            _ => Self::Heap(values.into()),
        }
    }
}

impl PartialEq for Components {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Components {}

impl Hash for Components {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl PartialOrd for Components {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Components {
    fn cmp(&self, other: &Self) -> Ordering {
        // Trimmed slices compare like zero-filled ones: see `trimmed`.
        (**self).cmp(&**other)
    }
}

impl std::ops::Deref for Components {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        match self {
            Self::Inline(len, values) => &values[..usize::from(*len)],
            Self::Heap(values) => values,
        }
    }
}

/// The numeric part of a version or a range bound: components and where parsing stopped.
struct Numbers {
    /// `buffer[..len]` holds the components (no heap allocation while scanning).
    buffer: [u64; MAX_COMPONENTS],
    len: usize,
    /// A trailing wildcard (`*`, `x`, `X`) was seen (ranges only).
    wildcard: bool,
    /// Byte offset just after the numeric part.
    end: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Grammar {
    Version,
    Range,
}

/// Scans `[vV] N ('.' N)*` starting at `start`. In range grammar, components may be wildcards
/// once the first wildcard has been seen.
fn scan_numbers(input: &str, start: usize, grammar: Grammar) -> Result<Numbers, VersionError> {
    let bytes = input.as_bytes();
    let mut pos = start;
    if matches!(bytes.get(pos), Some(b'v' | b'V')) {
        pos += 1;
    }
    let mut values = StackList::default();
    let mut wildcard = false;
    loop {
        let index = values.len() + usize::from(wildcard) + 1;
        let digits_start = pos;
        let mut value: u64 = 0;
        let mut overflow = false;
        if grammar == Grammar::Range && matches!(bytes.get(pos), Some(b'*' | b'x' | b'X')) {
            wildcard = true;
            pos += 1;
        } else {
            if wildcard {
                // A number after a wildcard (`5.*.3`) is meaningless.
                return Err(unexpected(input, pos, grammar));
            }
            while let Some(&b) = bytes.get(pos) {
                if !b.is_ascii_digit() {
                    break;
                }
                match value.checked_mul(10).and_then(|v| v.checked_add(u64::from(b - b'0'))) {
                    Some(v) => value = v,
                    None => overflow = true,
                }
                pos += 1;
            }
            if pos == digits_start {
                return match bytes.get(pos) {
                    None | Some(b'.') => Err(VersionError::EmptyComponent { input: input.to_owned(), index }),
                    Some(_) => Err(unexpected(input, pos, grammar)),
                };
            }
            if overflow {
                return Err(VersionError::ComponentOverflow { input: input.to_owned(), index });
            }
            if values.len() == MAX_COMPONENTS {
                return Err(VersionError::TooManyComponents { input: input.to_owned(), max: MAX_COMPONENTS });
            }
            values.push(value);
        }
        if values.len() + usize::from(wildcard) > MAX_COMPONENTS {
            return Err(VersionError::TooManyComponents { input: input.to_owned(), max: MAX_COMPONENTS });
        }
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
        } else {
            break;
        }
    }
    Ok(Numbers { buffer: values.items, len: values.len, wildcard, end: pos })
}

impl Numbers {
    fn values(&self) -> &[u64] {
        &self.buffer[..self.len]
    }
}

/// At most [`MAX_COMPONENTS`] numbers, on the stack.
#[derive(Default)]
struct StackList {
    items: [u64; MAX_COMPONENTS],
    len: usize,
}

impl StackList {
    fn push(&mut self, value: u64) {
        self.items[self.len] = value;
        self.len += 1;
    }
    fn len(&self) -> usize {
        self.len
    }
}

fn unexpected(input: &str, position: usize, grammar: Grammar) -> VersionError {
    let found = input[position..].chars().next().unwrap_or('\0');
    match grammar {
        Grammar::Version => VersionError::UnexpectedCharacter { input: input.to_owned(), found, position },
        Grammar::Range => VersionError::RangeUnexpectedCharacter { input: input.to_owned(), found, position },
    }
}

/// Parses `[-pre][+build]` from `rest` (which starts right after the numbers).
fn scan_suffixes(
    input: &str,
    rest_start: usize,
    grammar: Grammar,
) -> Result<(Prerelease, BuildMetadata), VersionError> {
    let rest = &input[rest_start..];
    let (pre_text, build_text) = match rest.as_bytes().first() {
        None => (None, None),
        Some(b'-') => match rest[1..].split_once('+') {
            Some((pre, build)) => (Some(pre), Some(build)),
            None => (Some(&rest[1..]), None),
        },
        Some(b'+') => (None, Some(&rest[1..])),
        Some(_) => return Err(unexpected(input, rest_start, grammar)),
    };
    // semver reads an empty pre-release / build as "absent"; a dangling separator is a typo.
    if pre_text == Some("") {
        return Err(VersionError::InvalidPrerelease {
            input: input.to_owned(),
            pre: String::new(),
            reason: "empty identifier".to_owned(),
        });
    }
    if build_text == Some("") {
        return Err(VersionError::InvalidBuildMetadata {
            input: input.to_owned(),
            build: String::new(),
            reason: "empty identifier".to_owned(),
        });
    }
    let pre = match pre_text {
        None => Prerelease::EMPTY,
        Some(text) => Prerelease::new(text).map_err(|e| VersionError::InvalidPrerelease {
            input: input.to_owned(),
            pre: text.to_owned(),
            reason: e.to_string(),
        })?,
    };
    let build = match build_text {
        None => BuildMetadata::EMPTY,
        Some(text) => BuildMetadata::new(text).map_err(|e| VersionError::InvalidBuildMetadata {
            input: input.to_owned(),
            build: text.to_owned(),
            reason: e.to_string(),
        })?,
    };
    Ok((pre, build))
}

fn trimmed(values: &[u64]) -> &[u64] {
    let len = values.iter().rposition(|&v| v != 0).map_or(0, |i| i + 1);
    &values[..len]
}

impl Version {
    /// What this version's equality, hash and order are made of (no reference to its text).
    pub(crate) fn key(&self) -> &VersionKey {
        &self.key
    }

    /// Parses a vendor version string.
    ///
    /// ```
    /// let v = fleetpath::Version::parse("0.48.0.34")?;
    /// assert_eq!(v.components(), vec![0, 48, 0, 34]);
    /// # Ok::<(), fleetpath::VersionError>(())
    /// ```
    ///
    /// # Errors
    /// A [`VersionError`] naming the input and what is wrong with it (empty input, an
    /// unexpected character and its position, an empty or oversized component, too many
    /// components, or a pre-release / build suffix that breaks semver's identifier rules).
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        if input.is_empty() {
            return Err(VersionError::Empty);
        }
        let numbers = scan_numbers(input, 0, Grammar::Version)?;
        let (pre, build) = scan_suffixes(input, numbers.end, Grammar::Version)?;
        let written = u8::try_from(numbers.len).unwrap_or(u8::MAX);
        let key = VersionKey { numbers: Components::new(trimmed(numbers.values())), pre, build };
        Ok(Self { raw: input.into(), key, written })
    }

    /// The version exactly as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Versions as one text, a line each, as written (no version's text has a line break):
    /// for a host where one string costs less to hand over than many.
    ///
    /// ```
    /// use fleetpath::Version;
    /// let versions = [Version::parse("5.6.30")?, Version::parse("v6.15.008")?];
    /// assert_eq!(Version::lines(&versions), "5.6.30\nv6.15.008");
    /// # Ok::<(), fleetpath::VersionError>(())
    /// ```
    pub fn lines<'a>(versions: impl IntoIterator<Item = &'a Version>) -> String {
        let versions: Vec<&str> = versions.into_iter().map(Version::as_str).collect();
        versions.join("\n")
    }

    /// The numeric components as written (leading zeros dropped, count kept):
    /// `6.15.008` gives `[6, 15, 8]`, `5.6.0` gives `[5, 6, 0]`.
    pub fn components(&self) -> Vec<u64> {
        let mut out = self.key.numbers.to_vec();
        out.resize(usize::from(self.written).max(out.len()), 0);
        out
    }

    /// The pre-release suffix (empty if none).
    pub fn pre(&self) -> &Prerelease {
        &self.key.pre
    }

    /// The build-metadata suffix (empty if none).
    pub fn build(&self) -> &BuildMetadata {
        &self.key.build
    }

    /// Whether this version has a pre-release suffix.
    pub fn is_prerelease(&self) -> bool {
        !self.key.pre.is_empty()
    }

    /// The canonical spelling: no prefix, no leading zeros, as many components as written.
    ///
    /// ```
    /// assert_eq!(fleetpath::Version::parse("V01.04-rc.1")?.normalized(), "1.4-rc.1");
    /// # Ok::<(), fleetpath::VersionError>(())
    /// ```
    pub fn normalized(&self) -> String {
        use fmt::Write as _;
        let mut out = String::with_capacity(self.raw.len());
        for (i, n) in self.components().iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            let _ = write!(out, "{n}");
        }
        if !self.key.pre.is_empty() {
            let _ = write!(out, "-{}", self.key.pre);
        }
        if !self.key.build.is_empty() {
            let _ = write!(out, "+{}", self.key.build);
        }
        out
    }

    /// Converts to a [`semver::Version`] when the version fits in three components (a fourth or
    /// later component must be zero). Missing components become zero.
    ///
    /// ```
    /// let v = fleetpath::Version::parse("v6.15.008")?.to_semver()?;
    /// assert_eq!(v, semver::Version::new(6, 15, 8));
    /// assert!(fleetpath::Version::parse("0.48.0.34")?.to_semver().is_err());
    /// # Ok::<(), fleetpath::VersionError>(())
    /// ```
    ///
    /// # Errors
    /// [`VersionError::NotSemver`] when a component after the third is not zero.
    pub fn to_semver(&self) -> Result<semver::Version, VersionError> {
        if self.key.numbers.len() > 3 {
            return Err(VersionError::NotSemver { version: self.raw.to_string() });
        }
        let at = |i: usize| self.key.numbers.get(i).copied().unwrap_or(0);
        Ok(semver::Version {
            major: at(0),
            minor: at(1),
            patch: at(2),
            pre: self.key.pre.clone(),
            build: self.key.build.clone(),
        })
    }
}

impl From<&semver::Version> for Version {
    fn from(v: &semver::Version) -> Self {
        let values = [v.major, v.minor, v.patch];
        Self {
            raw: v.to_string().into(),
            key: VersionKey { numbers: Components::new(trimmed(&values)), pre: v.pre.clone(), build: v.build.clone() },
            written: 3,
        }
    }
}

impl FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({:?})", &*self.raw)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

/// Deserializes a string through a parser, without an intermediate allocation.
struct ParseVisitor<T>(fn(&str) -> Result<T, VersionError>, &'static str);

impl<T> serde::de::Visitor<'_> for ParseVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
        (self.0)(text).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParseVisitor(Self::parse, "a firmware version string"))
    }
}

/// A comparison operator in a [`VersionRange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Exact,
    Greater,
    GreaterEq,
    Less,
    LessEq,
    Tilde,
    Caret,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparator {
    op: Op,
    /// Components as written (not trimmed).
    numbers: Vec<u64>,
    /// `Some(len)`: the bound is a prefix of `len` components (fewer than three written, or a
    /// wildcard). `None`: the bound names one exact version.
    prefix: Option<usize>,
    pre: Prerelease,
}

impl Comparator {
    /// semver's per-operator rules (`semver::VersionReq`), generalised to any number of
    /// components: compare the given components left to right; when they are all equal, the
    /// pre-release decides as semver's does for that operator.
    fn matches(&self, v: &Version) -> bool {
        self.side(v).is_eq()
    }

    /// Where `v` lies against the versions this comparator matches: `Equal` when it matches,
    /// otherwise below (`Less`) or above (`Greater`) them. Among versions without a pre-release
    /// the matches are one run of the version order, so the side is monotone there and ranges
    /// can be searched (see [`VersionRange::select`]).
    fn side(&self, v: &Version) -> Ordering {
        self.side_of(&v.key.numbers, &v.key.pre)
    }

    /// [`Comparator::side`] with pre-releases ordered like any other version (a range that
    /// includes pre-releases): a full bound compares the whole version, pre-release included;
    /// a prefix bound covers the pre-releases of the versions it covers, so it compares the
    /// numbers only (`>=3` and `3.*` take `3.0.0-rc.1`, `<3` does not). Monotone over the
    /// whole version order, pre-releases included.
    fn side_in_order(&self, v: &Version) -> Ordering {
        if self.prefix.is_some() { self.side_of(&v.key.numbers, &Prerelease::EMPTY) } else { self.side(v) }
    }

    fn side_of(&self, numbers: &[u64], pre: &Prerelease) -> Ordering {
        let given = self.prefix.unwrap_or(self.numbers.len());
        let full = self.prefix.is_none();
        // A full bound names one version: compare every component either side has (zeros
        // fill in). A prefix compares only what it gives.
        let span = if full { self.numbers.len().max(numbers.len()) } else { given };
        let mine = |i: usize| numbers.get(i).copied().unwrap_or(0);
        let theirs = |i: usize| self.numbers.get(i).copied().unwrap_or(0);
        let first_diff = |from: usize| (from..span).find(|&i| mine(i) != theirs(i));
        let pre = pre.cmp(&self.pre);
        let exact = first_diff(0).is_none() && pre.is_eq();
        let greater = match first_diff(0) {
            Some(i) => mine(i) > theirs(i),
            None => full && pre.is_gt(),
        };
        let less = match first_diff(0) {
            Some(i) => mine(i) < theirs(i),
            None => full && pre.is_lt(),
        };
        let or = |matched: bool, missed: Ordering| if matched { Ordering::Equal } else { missed };
        // The components up to `fixed` must equal the bound's; the rest must not be lower.
        let kept = |fixed: usize, at_bound: bool| match first_diff(0).filter(|&i| i < fixed) {
            Some(i) => mine(i).cmp(&theirs(i)),
            None => or(first_diff(fixed).map_or(at_bound, |i| mine(i) > theirs(i)), Ordering::Less),
        };
        match self.op {
            // `=5.6` and `5.6.*` alike want the same (empty) pre-release, as in semver.
            Op::Exact => first_diff(0).map_or(pre, |i| mine(i).cmp(&theirs(i))),
            Op::Greater => or(greater, Ordering::Less),
            Op::GreaterEq => or(exact || greater, Ordering::Less),
            Op::Less => or(less, Ordering::Greater),
            Op::LessEq => or(exact || less, Ordering::Greater),
            Op::Tilde | Op::Caret if given == 0 => Ordering::Equal, // `~*`, `^*`
            // ~a keeps a; ~a.b[.c…] keeps a.b.
            Op::Tilde => kept(given.min(2), pre.is_ge()),
            // ^ keeps everything up to the first non-zero given component (all of them when
            // all are zero: ^0.0 means <0.1). As in semver, a partial caret bound does not look
            // at pre-releases.
            Op::Caret => {
                let fixed = self.numbers[..given].iter().position(|&n| n != 0).map_or(given, |i| i + 1);
                kept(fixed, !full || pre.is_ge())
            }
        }
    }

    /// semver's rule: a pre-release version only matches if a comparator names the same
    /// numeric version with a pre-release.
    fn admits_prerelease_of(&self, v: &Version) -> bool {
        self.prefix.is_none() && !self.pre.is_empty() && *v.key.numbers == *trimmed(&self.numbers)
    }
}

/// A set of version constraints, such as `>=5.0, <5.6.30` or `5.6.* || ^6`.
///
/// See the [module docs](self) for the syntax and how it differs from semver's. Serializes as
/// the string the user wrote.
///
/// ```
/// use fleetpath::{Version, VersionRange};
///
/// let r = VersionRange::parse("~5.6 || ^0.48.0.34")?;
/// assert!(r.matches(&Version::parse("5.6.14")?));
/// assert!(r.matches(&Version::parse("0.48.1")?));
/// assert!(!r.matches(&Version::parse("0.49")?));
/// # Ok::<(), fleetpath::VersionError>(())
/// ```
#[derive(Clone)]
pub struct VersionRange {
    raw: Box<str>,
    alternatives: Vec<Vec<Comparator>>,
    /// Pre-releases ordered like any other version ([`VersionRange::including_prereleases`]).
    include_prerelease: bool,
}

impl VersionRange {
    /// Parses a range.
    ///
    /// # Errors
    /// A [`VersionError`] naming the input: an empty range or alternative, a comparator with no
    /// version, an unexpected character and its position, or a bound that is not a valid
    /// version ([`VersionError::RangeBound`] wraps the bound's own error).
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let mut alternatives = Vec::new();
        let mut offset = 0;
        for alternative in input.split("||") {
            if alternative.trim().is_empty() {
                return Err(VersionError::EmptyRange { input: input.to_owned() });
            }
            let mut set = Vec::new();
            let mut comp_offset = offset;
            for (i, comparator) in alternative.split(',').enumerate() {
                set.push(parse_comparator(input, comp_offset, comparator, i + 1)?);
                comp_offset += comparator.len() + 1;
            }
            alternatives.push(set);
            offset += alternative.len() + 2;
        }
        Ok(Self { raw: input.into(), alternatives, include_prerelease: false })
    }

    /// The same range, matching pre-releases like any other version: a pre-release matches
    /// when it lies within the bounds, as npm's `includePrerelease` option has it. By default
    /// (Cargo's rule, see the [module docs](self)) a pre-release matches only a comparator set
    /// that names its numbers with a pre-release.
    ///
    /// With pre-releases included, a bound of three or more components compares the whole
    /// version, pre-release included (`<1.10.1` takes `1.10.1-rc1`, which sorts before
    /// `1.10.1`; `^1.2.3` does not take `2.0.0-rc.1`, which sorts after every `1.x`); a prefix
    /// or wildcard bound covers the pre-releases of every version it covers (`>=3`, `3.*` and
    /// `~3.1` take `3.1.0-rc.1`; `<3` does not take `3.0.0-rc.1`), as npm's desugaring to
    /// `-0` bounds does.
    ///
    /// ```
    /// use fleetpath::{Version, VersionRange};
    ///
    /// let range = VersionRange::parse(">=1.10.0, <1.10.1")?;
    /// let rc: Version = "1.10.1-rc1".parse()?;
    /// assert!(!range.matches(&rc));
    /// assert!(range.clone().including_prereleases().matches(&rc));
    /// assert!(!VersionRange::parse("<3")?.including_prereleases().matches(&"3.0.0-rc.1".parse()?));
    /// # Ok::<(), fleetpath::VersionError>(())
    /// ```
    #[must_use]
    pub fn including_prereleases(mut self) -> Self {
        self.include_prerelease = true;
        self
    }

    /// Whether pre-releases are matched like any other version
    /// ([`VersionRange::including_prereleases`]).
    pub fn includes_prereleases(&self) -> bool {
        self.include_prerelease
    }

    /// The range exactly as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether `version` satisfies the range.
    pub fn matches(&self, version: &Version) -> bool {
        if self.include_prerelease {
            return self.alternatives.iter().any(|set| set.iter().all(|c| c.side_in_order(version).is_eq()));
        }
        self.alternatives.iter().any(|set| {
            set.iter().all(|c| c.matches(version))
                && (!version.is_prerelease() || set.iter().any(|c| c.admits_prerelease_of(version)))
        })
    }

    /// Appends to `out` the positions in `sorted` (versions in ascending order, as `version`
    /// reads them) that the range matches, ascending. `stable` lists the positions of the
    /// versions without a pre-release, ascending.
    ///
    /// Binary searches instead of a test of every version: O(comparators × log n) plus the
    /// matches, so expanding a manifest's range edges costs what they generate.
    pub(crate) fn select<T>(&self, sorted: &[T], stable: &[u32], version: impl Fn(&T) -> &Version, out: &mut Vec<u32>) {
        let start = out.len();
        let at = |i: u32| version(&sorted[i as usize]);
        for set in &self.alternatives {
            if self.include_prerelease {
                // Every version in one order: one run of `sorted` itself.
                let run = Self::run_in_order(set, sorted, &version);
                out.extend(run.map(u32_of));
                continue;
            }
            out.extend(stable.get(Self::run(set, stable, &at)).unwrap_or_default());
            out.extend(Self::prereleases(set, sorted, &version));
        }
        if !out[start..].is_sorted_by(|a, b| a < b) {
            let mut found = out.split_off(start);
            found.sort_unstable();
            found.dedup();
            out.append(&mut found);
        }
    }

    /// The first position after `after` in `sorted` that the range matches (as
    /// [`VersionRange::select`] would list them), without listing the others.
    pub(crate) fn first_match_after<T>(
        &self,
        sorted: &[T],
        stable: &[u32],
        version: impl Fn(&T) -> &Version,
        after: u32,
    ) -> Option<u32> {
        let stable = &stable[stable.partition_point(|&i| i <= after)..];
        let at = |i: u32| version(&sorted[i as usize]);
        let mut first = None;
        if self.include_prerelease {
            let skip = (after as usize + 1).min(sorted.len());
            for set in &self.alternatives {
                let run = Self::run_in_order(set, &sorted[skip..], &version);
                let found = (!run.is_empty()).then(|| u32_of(skip + run.start));
                first = [first, found].into_iter().flatten().min();
            }
            return first;
        }
        for set in &self.alternatives {
            let run = Self::run(set, stable, &at);
            let found = stable.get(run.start).filter(|_| !run.is_empty()).copied();
            let pre = Self::prereleases(set, sorted, &version).find(|&i| i > after);
            first = [first, found, pre].into_iter().flatten().min();
        }
        first
    }

    /// The positions in `stable` (versions without a pre-release, ascending) that a comparator
    /// set matches: one run, since each comparator's matches are one.
    fn run<'v>(set: &[Comparator], stable: &[u32], at: &impl Fn(u32) -> &'v Version) -> std::ops::Range<usize> {
        let below = stable.partition_point(|&i| set.iter().any(|c| c.side(at(i)).is_lt()));
        let end = stable.partition_point(|&i| !set.iter().any(|c| c.side(at(i)).is_gt()));
        below..end.max(below)
    }

    /// The positions in `sorted` (every version, ascending) that a comparator set matches with
    /// pre-releases in order ([`Comparator::side_in_order`]): one run.
    fn run_in_order<T>(set: &[Comparator], sorted: &[T], version: &impl Fn(&T) -> &Version) -> std::ops::Range<usize> {
        let below = sorted.partition_point(|t| set.iter().any(|c| c.side_in_order(version(t)).is_lt()));
        let end = sorted.partition_point(|t| !set.iter().any(|c| c.side_in_order(version(t)).is_gt()));
        below..end.max(below)
    }

    /// The pre-releases in `sorted` that a comparator set matches, ascending per bound: only a
    /// comparator naming their numbers with a pre-release admits them.
    fn prereleases<'a, T>(
        set: &'a [Comparator],
        sorted: &'a [T],
        version: &'a impl Fn(&T) -> &Version,
    ) -> impl Iterator<Item = u32> + 'a {
        set.iter().filter(|c| c.prefix.is_none() && !c.pre.is_empty()).flat_map(move |bound| {
            let numbers = trimmed(&bound.numbers);
            let first = sorted.partition_point(|t| *version(t).key.numbers < *numbers);
            let last = sorted.partition_point(|t| *version(t).key.numbers <= *numbers);
            (first..last)
                .filter(move |&i| {
                    let v = version(&sorted[i]);
                    v.is_prerelease() && set.iter().all(|c| c.matches(v))
                })
                .map(u32_of)
        })
    }
}

/// What to write instead, for range syntax users bring from other ecosystems ("" otherwise).
fn range_hint(input: &str, position: usize) -> String {
    let (before, after) = input.split_at(position.min(input.len()));
    if after.starts_with(char::is_whitespace) && !input.contains([',', '|']) {
        let fixed: Vec<&str> = input.split_whitespace().collect();
        return format!("; comparators are separated by `,`: write `{}`", fixed.join(", "));
    }
    if after.starts_with('=') && before.trim_end().ends_with('=') {
        return "; write `=` (or the version alone) for an exact match".to_owned();
    }
    if after.starts_with('!') {
        return "; ranges have no `!=`: leave a release out with `<X || >X`, or block the edge".to_owned();
    }
    if after.starts_with('>') && before.trim_end().ends_with('=') {
        return "; write `>=`".to_owned();
    }
    String::new()
}

fn parse_comparator(input: &str, offset: usize, text: &str, index: usize) -> Result<Comparator, VersionError> {
    let lead = text.len() - text.trim_start().len();
    let body = text.trim();
    if body.is_empty() {
        return Err(VersionError::EmptyComparator { input: input.to_owned(), index });
    }
    let (op, op_len) = match body.as_bytes() {
        [b'>', b'=', ..] => (Op::GreaterEq, 2),
        [b'<', b'=', ..] => (Op::LessEq, 2),
        [b'>', ..] => (Op::Greater, 1),
        [b'<', ..] => (Op::Less, 1),
        [b'=', ..] => (Op::Exact, 1),
        [b'~', ..] => (Op::Tilde, 1),
        [b'^', ..] => (Op::Caret, 1),
        _ => (Op::Exact, 0),
    };
    let after_op = &body[op_len..];
    let bound = after_op.trim_start();
    if bound.is_empty() {
        return Err(VersionError::EmptyComparator { input: input.to_owned(), index });
    }
    let bound_start = offset + lead + op_len + (after_op.len() - bound.len());
    // Parse the bound in place, so positions in errors refer to the whole input.
    let end = bound_start + bound.len();
    // Scanner errors: positions already refer to the whole input; anything else is about the
    // bound, reported inside a `RangeBound`.
    let bound_error = |e: VersionError| match e {
        VersionError::RangeUnexpectedCharacter { found, position, .. } => {
            VersionError::RangeUnexpectedCharacter { input: input.to_owned(), found, position }
        }
        other => VersionError::RangeBound { input: input.to_owned(), source: Box::new(rebase(other, bound)) },
    };
    let numbers = scan_numbers(&input[..end], bound_start, Grammar::Range).map_err(bound_error)?;
    let (pre, _build) = if numbers.wildcard {
        if numbers.end < end {
            return Err(VersionError::RangeUnexpectedCharacter {
                input: input.to_owned(),
                found: input[numbers.end..].chars().next().unwrap_or('\0'),
                position: numbers.end,
            });
        }
        (Prerelease::EMPTY, BuildMetadata::EMPTY)
    } else {
        scan_suffixes(&input[..end], numbers.end, Grammar::Range).map_err(bound_error)?
    };
    let given = numbers.len;
    let prefix = (numbers.wildcard || given < 3).then_some(given);
    if prefix.is_some() && !pre.is_empty() {
        // `>=1.2-rc.1` has no meaning in semver either: a pre-release needs a full version.
        return Err(VersionError::RangeBound {
            input: input.to_owned(),
            source: Box::new(VersionError::InvalidPrerelease {
                input: bound.to_owned(),
                pre: pre.to_string(),
                reason: "a pre-release needs at least three numeric components".to_owned(),
            }),
        });
    }
    Ok(Comparator { op, numbers: numbers.values().to_vec(), prefix, pre })
}

/// Re-targets a bound's error at the bound's own text (the scanner saw a slice of the input).
fn rebase(error: VersionError, bound: &str) -> VersionError {
    match error {
        VersionError::EmptyComponent { index, .. } => VersionError::EmptyComponent { input: bound.to_owned(), index },
        VersionError::ComponentOverflow { index, .. } => {
            VersionError::ComponentOverflow { input: bound.to_owned(), index }
        }
        VersionError::TooManyComponents { max, .. } => VersionError::TooManyComponents { input: bound.to_owned(), max },
        VersionError::InvalidPrerelease { pre, reason, .. } => {
            VersionError::InvalidPrerelease { input: bound.to_owned(), pre, reason }
        }
        VersionError::InvalidBuildMetadata { build, reason, .. } => {
            VersionError::InvalidBuildMetadata { input: bound.to_owned(), build, reason }
        }
        other => other,
    }
}

impl FromStr for VersionRange {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VersionRange({:?})", &*self.raw)
    }
}

impl PartialEq for VersionRange {
    fn eq(&self, other: &Self) -> bool {
        self.alternatives == other.alternatives && self.include_prerelease == other.include_prerelease
    }
}

impl Eq for VersionRange {}

impl Serialize for VersionRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for VersionRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParseVisitor(Self::parse, "a version range string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn comparator() -> impl Strategy<Value = String> {
        let op = prop_oneof![Just("="), Just(">"), Just(">="), Just("<"), Just("<="), Just("~"), Just("^"), Just("")];
        let pre = prop::option::of(prop_oneof![Just("-alpha"), Just("-rc.1"), Just("-rc.2")]);
        (op, prop::collection::vec(0u64..3, 1..5), pre, any::<bool>()).prop_map(|(op, numbers, pre, wildcard)| {
            let numbers: Vec<String> = numbers.iter().map(u64::to_string).collect();
            match (wildcard, pre) {
                (true, _) => format!("{}.*", numbers.join(".")),
                (false, pre) => format!("{op}{}{}", numbers.join("."), pre.unwrap_or_default()),
            }
        })
    }

    fn version() -> impl Strategy<Value = String> {
        let pre = prop::option::of(prop_oneof![Just("-alpha"), Just("-rc.1"), Just("-rc.2"), Just("-0")]);
        (prop::collection::vec(0u64..3, 1..5), pre).prop_map(|(numbers, pre)| {
            let numbers: Vec<String> = numbers.iter().map(u64::to_string).collect();
            format!("{}{}", numbers.join("."), pre.unwrap_or_default())
        })
    }

    proptest! {
        /// The binary searches of `select` find exactly what testing each version finds.
        #[test]
        fn select_agrees_with_matches(
            alternatives in prop::collection::vec(prop::collection::vec(comparator(), 1..4), 1..3),
            versions in prop::collection::vec(version(), 0..40),
            include_prerelease in any::<bool>(),
        ) {
            let text = alternatives.iter().map(|set| set.join(", ")).collect::<Vec<_>>().join(" || ");
            let Ok(range) = VersionRange::parse(&text) else { return Ok(()) };
            let range = if include_prerelease { range.including_prereleases() } else { range };
            let mut sorted: Vec<Version> = versions.iter().filter_map(|s| Version::parse(s).ok()).collect();
            sorted.sort();
            sorted.dedup();
            let positions = 0..u32::try_from(sorted.len()).unwrap();
            let stable: Vec<u32> = positions.clone().filter(|&i| !sorted[i as usize].is_prerelease()).collect();
            let mut found = vec![7];
            range.select(&sorted, &stable, |v| v, &mut found);
            let expected: Vec<u32> = positions.filter(|&i| range.matches(&sorted[i as usize])).collect();
            prop_assert_eq!(found[0], 7);
            prop_assert_eq!(&found[1..], &expected[..], "{} over {:?}", text, sorted);
            for after in 0..u32::try_from(sorted.len()).unwrap() {
                let first = expected.iter().copied().find(|&i| i > after);
                prop_assert_eq!(range.first_match_after(&sorted, &stable, |v| v, after), first, "{} after {}", text, after);
            }
        }

        /// Including pre-releases changes nothing for the other versions and only ever adds
        /// pre-releases to what the range matches.
        #[test]
        fn including_prereleases_only_adds_prereleases(
            alternatives in prop::collection::vec(prop::collection::vec(comparator(), 1..4), 1..3),
            version in version(),
        ) {
            let text = alternatives.iter().map(|set| set.join(", ")).collect::<Vec<_>>().join(" || ");
            let (Ok(range), Ok(version)) = (VersionRange::parse(&text), Version::parse(&version)) else { return Ok(()) };
            let including = range.clone().including_prereleases();
            if version.is_prerelease() {
                prop_assert!(!range.matches(&version) || including.matches(&version), "{} {}", text, version);
            } else {
                prop_assert_eq!(range.matches(&version), including.matches(&version), "{} {}", text, version);
            }
        }

        /// With pre-releases included, a set of full bounds with plain operators is exactly
        /// the version order: npm's `includePrerelease` semantics.
        #[test]
        fn included_prereleases_follow_the_version_order(
            bounds in prop::collection::vec(
                (prop_oneof![Just("="), Just(">"), Just(">="), Just("<"), Just("<=")],
                 prop::collection::vec(0u64..3, 3..5),
                 prop::option::of(prop_oneof![Just("-alpha"), Just("-rc.1"), Just("-rc.2")])),
                1..4),
            version in version(),
        ) {
            let Ok(version) = Version::parse(&version) else { return Ok(()) };
            let mut text = Vec::new();
            let mut expected = true;
            for (op, numbers, pre) in &bounds {
                let numbers: Vec<String> = numbers.iter().map(u64::to_string).collect();
                let bound = format!("{}{}", numbers.join("."), pre.unwrap_or_default());
                let order = version.cmp(&Version::parse(&bound).unwrap());
                expected &= match *op {
                    "=" => order.is_eq(),
                    ">" => order.is_gt(),
                    ">=" => order.is_ge(),
                    "<" => order.is_lt(),
                    _ => order.is_le(),
                };
                text.push(format!("{op}{bound}"));
            }
            let range = VersionRange::parse(&text.join(", ")).unwrap().including_prereleases();
            prop_assert_eq!(range.matches(&version), expected, "{:?} {}", text, version);
        }
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn vendor_spellings_parse_and_keep_their_spelling() {
        for s in ["6.15.008", "V1.04", "v5.6.14", "0.48.0.34", "7.6.0-build3401", "2.1+b42", "01.01"] {
            assert_eq!(v(s).to_string(), s);
        }
        assert_eq!(v("6.15.008").components(), vec![6, 15, 8]);
        assert_eq!(v("5.6.0").components(), vec![5, 6, 0]);
        assert_eq!(v("V01.04-rc.1+b7").normalized(), "1.4-rc.1+b7");
    }

    #[test]
    fn numeric_ordering_ignores_spelling() {
        assert_eq!(v("6.15.008"), v("6.15.8"));
        assert_eq!(v("6.15"), v("v6.15.0.0"));
        assert!(v("6.15.8") < v("6.15.10"));
        assert!(v("6.15.10") < v("6.15.10.1"));
        assert!(v("7.6.0-build3401") < v("7.6.0"));
        assert!(v("7.6.0-rc.2") < v("7.6.0-rc.10"));
        assert!(v("5.6.30") < v("6.15.008"));
    }

    #[test]
    fn equal_versions_hash_equal() {
        use std::collections::HashSet;
        let set: HashSet<Version> = ["6.15.008", "6.15.8", "V6.15.8.0"].iter().map(|s| v(s)).collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn comparator_semantics() {
        let cases: &[(&str, &str, bool)] = &[
            (">=5.0, <5.6.30", "5.6.14", true),
            (">=5.0, <5.6.30", "5.6.30", false),
            (">=5.0, <5.6.30", "4.9", false),
            ("5.6.*", "5.6.14", true),
            ("5.6.*", "5.7", false),
            ("5.6", "5.6.99", true),
            ("5.6.14", "5.6.14.1", false),
            ("=5.6.014", "v5.6.14", true),
            ("^6", "6.15.008", true),
            ("^6", "7.0", false),
            ("~5.6", "5.6.30", true),
            ("~5.6", "5.7.0", false),
            ("~5.6.14", "5.6.99", true),
            ("^0.0", "0.0.7", true),
            ("^0.0", "0.1", false),
            ("^0.48.0.34", "0.48.9", true),
            ("^0.48.0.34", "0.48.0.33", false),
            ("^0.48.0.34", "0.49", false),
            ("~0.48.0.34", "0.48.7.1", true),
            (">5.6", "5.6.99", false),
            (">5.6", "5.7", true),
            ("<=5.6", "5.6.99", true),
            ("<=5.6.14", "5.6.14.1", false),
            ("*", "123.4", true),
            ("*", "1.0-rc.1", false),
            (">=7.6.0-rc.1", "7.6.0-rc.2", true),
            (">=7.5", "7.6.0-rc.2", false),
            ("5.6.* || ^6", "6.2", true),
            ("5.6.* || ^6", "5.8", false),
            ("~*", "0.1", true),
        ];
        for &(range, version, expected) in cases {
            let r = VersionRange::parse(range).unwrap();
            assert_eq!(r.matches(&v(version)), expected, "{range} vs {version}");
        }
    }
    #[test]
    fn included_prereleases_as_npm_orders_them() {
        // (range, version, Cargo's rule, with pre-releases included)
        let cases: &[(&str, &str, bool, bool)] = &[
            (">=1.10.0, <1.10.1", "1.10.1-rc1", false, true),
            (">=1.10.0, <1.10.1", "1.10.0-rc1", false, false),
            (">=3", "3.0.0-rc.1", false, true),
            ("3.*", "3.1.0-rc.1", false, true),
            ("~3.1", "3.1.0-rc.1", false, true),
            ("~3.1", "3.2.0-rc.1", false, false),
            ("<3", "3.0.0-rc.1", false, false),
            ("<=3", "3.9.0-rc.1", false, true),
            ("^1.2.3", "1.9.0-rc.1", false, true),
            ("^1.2.3", "2.0.0-rc.1", false, false),
            (">=7.6.0-rc.1", "7.6.0-rc.2", true, true),
            (">=7.5", "7.6.0-rc.2", false, true),
            ("=1.2.3", "1.2.3-rc.1", false, false),
            (">=1.0, <2.0", "1.5.0", true, true),
        ];
        for &(range, version, cargo, npm) in cases {
            let r = VersionRange::parse(range).unwrap();
            assert_eq!(r.matches(&v(version)), cargo, "{range} vs {version}");
            let r = r.including_prereleases();
            assert!(r.includes_prereleases());
            assert_eq!(r.matches(&v(version)), npm, "{range} vs {version}, pre-releases included");
        }
    }
}
