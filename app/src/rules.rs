//! The field rules of SPEC.md section 5, each as a newtype whose only constructor checks it.
//!
//! The server deserialises request bodies straight into these types, and the UI calls the
//! same constructors to check a form before sending it, so every rule lives here once.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value broke its field's rule; `Display` gives the rule, the caller knows the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub &'static str);

/// What `trim` strips: ASCII blanks only, so the OpenAPI patterns can say exactly which
/// surrounding characters a value may carry (any other control character is refused).
pub const BLANKS: &[char] = &[' ', '\t', '\n', '\r'];

/// Declares a validated string newtype: serde goes through `parse`, so an invalid value
/// can never be deserialised, and `RULE` is the sentence an error message shows. `PATTERN`
/// (an ECMA-262 regular expression for the OpenAPI document) says the same as `check`
/// about the untrimmed value; a test holds the two together.
macro_rules! rule_string {
    ($(#[$doc:meta])* $name:ident, rule = $rule:expr, trim = $trim:expr, pattern = $pattern:expr,
     length = $length:expr, check = $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const RULE: &'static str = $rule;
            pub const PATTERN: &'static str = $pattern;
            /// Length bounds of the raw value, where trimming leaves them exact.
            pub const LENGTH: Option<(usize, usize)> = $length;

            pub fn parse(raw: &str) -> Result<Self, RuleError> {
                let value = if $trim { raw.trim_matches(BLANKS) } else { raw };
                let check: fn(&str) -> bool = $check;
                if check(value) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(RuleError(Self::RULE))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = RuleError;
            fn try_from(raw: String) -> Result<Self, RuleError> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                string_schema(Self::RULE, Self::PATTERN, Self::LENGTH)
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}
    };
}

/// The OpenAPI schema of a rule: a string with its pattern and length bounds, described
/// by the rule's sentence.
#[cfg(feature = "ssr")]
fn string_schema(
    rule: &str,
    pattern: &str,
    length: Option<(usize, usize)>,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(rule))
        .pattern(Some(pattern))
        .min_length(length.map(|(min, _)| min))
        .max_length(length.map(|(_, max)| max))
        .into()
}

/// No control character at all (`lines`: except tab and newline), SPEC.md section 8.
fn no_controls(value: &str, lines: bool) -> bool {
    value
        .chars()
        .all(|c| !c.is_control() || (lines && matches!(c, '\t' | '\n')))
}

/// Implements `Display` and `Debug` by showing the value (not for secrets).
macro_rules! show_value {
    ($($name:ident),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
    )*};
}

fn char_count_within(value: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&value.chars().count())
}

// Pieces of the patterns below. A value may carry `BLANKS` around it; inside, a control
// character is refused (tab and newline allowed only in the long texts). `NO_NEWLINE`
// keeps a pattern's `$` from accepting a final newline in regex engines that allow one.
macro_rules! blanks {
    () => {
        r"[ \t\n\r]*"
    };
}
macro_rules! visible {
    () => {
        r"[^\x00-\x20\x7f-\x9f]"
    };
}
macro_rules! printable {
    () => {
        r"[^\x00-\x1f\x7f-\x9f]"
    };
}
macro_rules! printable_lines {
    () => {
        r"[^\x00-\x08\x0b-\x1f\x7f-\x9f]"
    };
}
macro_rules! no_newline {
    () => {
        r"(?![^\n]*\n)"
    };
}

rule_string!(
    /// A login name: unique case-insensitively among users not deleted (the database's job).
    UserName,
    rule = "must be 2-32 characters of ASCII letters, digits, '_', '.' or '-', starting with a letter or digit",
    trim = true,
    pattern = concat!("^", blanks!(), "[A-Za-z0-9][A-Za-z0-9_.-]{1,31}", blanks!(), "$"),
    length = None,
    check = |v| {
        (2..=32).contains(&v.len())
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    }
);

rule_string!(
    /// A new password as typed: never trimmed, stored only as an Argon2id hash.
    Password,
    rule = "must be 8-20 characters with at least one uppercase letter, one lowercase letter and one digit, and no control characters",
    trim = false,
    pattern = concat!("^", no_newline!(), "(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])", printable!(), "{8,20}$"),
    length = Some((8, 20)),
    check = |v| {
        char_count_within(v, 8, 20)
            && v.chars().any(|c| c.is_ascii_uppercase())
            && v.chars().any(|c| c.is_ascii_lowercase())
            && v.chars().any(|c| c.is_ascii_digit())
            && no_controls(v, false)
    }
);
impl Password {
    /// Each part of the rule on its own, for the live checklist of the registration form.
    pub fn checklist(raw: &str) -> [(PasswordCheck, bool); 4] {
        [
            (PasswordCheck::Length, char_count_within(raw, 8, 20)),
            (
                PasswordCheck::Uppercase,
                raw.chars().any(|c| c.is_ascii_uppercase()),
            ),
            (
                PasswordCheck::Lowercase,
                raw.chars().any(|c| c.is_ascii_lowercase()),
            ),
            (PasswordCheck::Digit, raw.chars().any(|c| c.is_ascii_digit())),
        ]
    }
}

/// One part of the password rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Length,
    Uppercase,
    Lowercase,
    Digit,
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

rule_string!(
    /// A phone number: unique among users not deleted.
    Phone,
    rule = "must be 5-20 digits, optionally after a leading '+'",
    trim = true,
    pattern = concat!("^", blanks!(), r"\+?[0-9]{5,20}", blanks!(), "$"),
    length = None,
    check = |v| {
        let digits = v.strip_prefix('+').unwrap_or(v);
        (5..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    }
);

rule_string!(
    /// A person's name as they write it, in any script.
    RealName,
    rule = "must be 1-64 characters, none of them a control character",
    trim = true,
    pattern = concat!("^", blanks!(), visible!(), "(", printable!(), "{0,62}", visible!(), ")?", blanks!(), "$"),
    length = None,
    check = |v| char_count_within(v, 1, 64) && no_controls(v, false)
);

rule_string!(
    /// A business name: a DNS-1123 label, since it becomes a Kubernetes namespace.
    BusinessName,
    rule = "must be a DNS-1123 label: 1-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit",
    trim = true,
    pattern = concat!("^", blanks!(), "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", blanks!(), "$"),
    length = None,
    check = |v| {
        (1..=63).contains(&v.len())
            && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !v.starts_with('-')
            && !v.ends_with('-')
    }
);

rule_string!(
    /// A business's `introduce` or `objective` text.
    LongText,
    rule = "must be 1-1000 characters, with no control characters but tab and newline",
    trim = true,
    pattern = concat!("^", blanks!(), visible!(), "(", printable_lines!(), "{0,998}", visible!(), ")?", blanks!(), "$"),
    length = None,
    check = |v| char_count_within(v, 1, 1000) && no_controls(v, true)
);

rule_string!(
    /// A business's `scale`.
    Scale,
    rule = "must be 1-64 characters, none of them a control character",
    trim = true,
    pattern = concat!("^", blanks!(), visible!(), "(", printable!(), "{0,62}", visible!(), ")?", blanks!(), "$"),
    length = None,
    check = |v| char_count_within(v, 1, 64) && no_controls(v, false)
);

rule_string!(
    /// The system administrator's comment on a business audit.
    Comment,
    rule = "must be at most 512 characters, with no control characters but tab and newline",
    trim = true,
    pattern = concat!("^", blanks!(), "(", visible!(), "(", printable_lines!(), "{0,510}", visible!(), ")?)?", blanks!(), "$"),
    length = None,
    check = |v| char_count_within(v, 0, 512) && no_controls(v, true)
);

rule_string!(
    /// Free text that is not a new value of a field: a login name, a password being
    /// checked (at login, the old one of a change), a search term. Any characters but
    /// control characters, as sent; `Debug` never shows it.
    Text,
    rule = "must not contain control characters",
    trim = false,
    pattern = concat!("^", no_newline!(), printable!(), "*$"),
    length = None,
    check = |v| no_controls(v, false)
);

rule_string!(
    /// What a personal access token is called by its owner ("deploy script").
    TokenName,
    rule = "must be 1-64 characters, none of them a control character",
    trim = true,
    pattern = concat!("^", blanks!(), visible!(), "(", printable!(), "{0,62}", visible!(), ")?", blanks!(), "$"),
    length = None,
    check = |v| char_count_within(v, 1, 64) && no_controls(v, false)
);

rule_string!(
    /// Where a webhook is sent: an http or https URL (where its host may point is the
    /// server's check, `webhooks::policy`).
    WebhookUrl,
    rule = "must be http:// or https:// and 1-2040 more characters, none of them a space or a control character",
    trim = true,
    pattern = concat!("^", blanks!(), "https?://", visible!(), "{1,2040}", blanks!(), "$"),
    length = None,
    check = |v| {
        let visible = |c: char| c > ' ' && !('\u{7f}'..='\u{9f}').contains(&c);
        (v.strip_prefix("https://").or_else(|| v.strip_prefix("http://")))
            .is_some_and(|rest| char_count_within(rest, 1, 2040) && rest.chars().all(visible))
    }
);

rule_string!(
    /// What an application signing in through the portal is called ("Kubernetes").
    ClientName,
    rule = "must be 1-64 characters, none of them a control character",
    trim = true,
    pattern = concat!("^", blanks!(), visible!(), "(", printable!(), "{0,62}", visible!(), ")?", blanks!(), "$"),
    length = None,
    check = |v| char_count_within(v, 1, 64) && no_controls(v, false)
);

rule_string!(
    /// Where the portal may send a browser back to an application (OpenID Connect): an
    /// https URL on a host name, or http on a loopback host (what a CLI like kubelogin
    /// listens on); matched exactly, so no fragment and no wildcard. No user name before the
    /// host (`https://trusted.example@elsewhere/`) and nothing a URL parser refuses.
    RedirectUri,
    rule = "must be https:// on a host name (letters, digits, '.' and '-'), or http:// on localhost, 127.x.x.x or [::1]; then an optional port (0-65535) and at most 481 characters of path and query, with no '#', space or control character",
    trim = true,
    pattern = concat!(
        "^", blanks!(),
        r"(https://[A-Za-z0-9][A-Za-z0-9.-]{0,252}|http://(localhost|127(\.[0-9]{1,3}){3}|\[::1\]))",
        r"(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?",
        r"([/?][^\x00-\x20\x7f-\x9f#]{0,480})?",
        blanks!(), "$"
    ),
    length = None,
    check = redirect_uri_ok
);

fn redirect_uri_ok(v: &str) -> bool {
    let (https, rest) = match (v.strip_prefix("https://"), v.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return false,
    };
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let (host, port) = match authority.strip_prefix("[::1]") {
        Some(port) => ("[::1]", port),
        None => authority.split_at(authority.find(':').unwrap_or(authority.len())),
    };
    let digits =
        |d: &str, most: usize| (1..=most).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit());
    let host_ok = if https {
        (1..=253).contains(&host.len())
            && host.starts_with(|c: char| c.is_ascii_alphanumeric())
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    } else {
        host == "localhost"
            || host == "[::1]"
            || host.strip_prefix("127.").is_some_and(|r| {
                let parts: Vec<&str> = r.split('.').collect();
                parts.len() == 3 && parts.iter().all(|p| digits(p, 3))
            })
    };
    // Five digits only from 10000 up: "08080" is no port (the pattern says the same).
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|d| {
            digits(d, 5) && (d.len() < 5 || d.parse::<u32>().is_ok_and(|p| (10_000..=65_535).contains(&p)))
        });
    let allowed = |c: char| c > ' ' && !('\u{7f}'..='\u{9f}').contains(&c) && c != '#';
    host_ok && port_ok && path.chars().count() <= 481 && path.chars().all(allowed)
}

rule_string!(
    /// Which events a webhook receives: `*`, an action (`user.audit`) or a prefix
    /// (`business.*`).
    EventPattern,
    rule = "must be '*', an action such as 'user.audit', or a prefix such as 'business.*'",
    trim = true,
    pattern = concat!("^", blanks!(), r"(\*|[a-z][a-z_]{0,31}\.(\*|[a-z][a-z_]{0,31}))", blanks!(), "$"),
    length = None,
    check = |v| {
        let word = |w: &str| {
            (1..=32).contains(&w.len())
                && w.starts_with(|c: char| c.is_ascii_lowercase())
                && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        };
        v == "*" || v.split_once('.').is_some_and(|(kind, what)| word(kind) && (what == "*" || word(what)))
    }
);

rule_string!(
    /// What a webhook is for, in the administrator's words.
    Description,
    rule = "must be at most 256 characters, none of them a control character",
    trim = true,
    pattern = concat!("^", blanks!(), "(", visible!(), "(", printable!(), "{0,254}", visible!(), ")?)?", blanks!(), "$"),
    length = None,
    check = |v| char_count_within(v, 0, 256) && no_controls(v, false)
);

rule_string!(
    /// What kind of thing an audit entry is about (`user`, `business`, `token`, ...), as a
    /// filter of the audit log.
    TargetType,
    rule = "must be 1-32 characters of a-z and '_', starting with a letter",
    trim = true,
    pattern = concat!("^", blanks!(), "[a-z][a-z_]{0,31}", blanks!(), "$"),
    length = None,
    check = |v| {
        (1..=32).contains(&v.len())
            && v.starts_with(|c: char| c.is_ascii_lowercase())
            && v.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    }
);

/// A moment as RFC 3339 writes it: `2024-05-01T00:00:00Z`, `2024-05-01T08:00:00.25+08:00`.
/// The date must exist (2023-02-29 does not); a leap second (`:60`) is refused, as no stored
/// time has one; at most nine digits of a second. The browser builds these too, so the
/// arithmetic is here rather than in a date library.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DateTime {
    text: String,
    seconds: i64,
    nanos: u32,
}

impl DateTime {
    pub const RULE: &'static str =
        "must be an RFC 3339 date and time such as 2024-05-01T00:00:00Z (a '+' offset sent as %2B)";
    pub const PATTERN: &'static str = concat!(
        "^",
        blanks!(),
        // Any year; each month's days, and 29 February only in leap years.
        "(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)",
        "|02-(?:0[1-9]|1[0-9]|2[0-8]))",
        "|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)",
        "[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?",
        "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])",
        blanks!(),
        "$"
    );
    pub const LENGTH: Option<(usize, usize)> = None;

    pub fn parse(raw: &str) -> Result<Self, RuleError> {
        let text = raw.trim_matches(BLANKS);
        let (seconds, nanos) = Self::read(text.as_bytes()).ok_or(RuleError(Self::RULE))?;
        Ok(Self {
            text: text.to_owned(),
            seconds,
            nanos,
        })
    }

    /// Midnight (UTC) starting a calendar day, or `None` when the day does not exist.
    pub fn day(year: u16, month: u8, day: u8) -> Option<Self> {
        Self::parse(&format!("{year:04}-{month:02}-{day:02}T00:00:00Z")).ok()
    }

    /// Unix seconds as UTC (`2024-05-01T00:00:00Z`), for years 0 to 9999.
    pub fn from_unix(seconds: i64) -> Option<Self> {
        let (year, month, day, hour, minute, second) = civil_time(seconds);
        Self::parse(&format!(
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"
        ))
        .ok()
    }

    /// Unix seconds and the nanoseconds after them; the fields are checked, in RFC 3339's
    /// fixed layout.
    fn read(b: &[u8]) -> Option<(i64, u32)> {
        fn digits(b: &[u8]) -> Option<i64> {
            (!b.is_empty() && b.iter().all(u8::is_ascii_digit))
                .then(|| b.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
        }
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
        let (hour, minute, second) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let month_days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let mut rest = &b[19..];
        let mut nanos = 0u32;
        if let Some(after) = rest.strip_prefix(b".") {
            let count = after.iter().take_while(|c| c.is_ascii_digit()).count();
            if !(1..=9).contains(&count) {
                return None;
            }
            nanos = (digits(&after[..count])? * 10_i64.pow(9 - count as u32)) as u32;
            rest = &after[count..];
        }
        let offset = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let (hours, minutes) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let offset = hours * 3600 + minutes * 60;
                if *sign == b'-' { -offset } else { offset }
            }
            _ => return None,
        };
        // Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
        Some((days * 86_400 + hour * 3600 + minute * 60 + second - offset, nanos))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Unix seconds, rounded down.
    pub fn seconds(&self) -> i64 {
        self.seconds
    }

    /// The first whole Unix second at or after this moment: stored times are whole
    /// seconds, so `time >= moment` and `time < moment` both mean the same against it.
    pub fn whole_seconds_from(&self) -> i64 {
        self.seconds + i64::from(self.nanos > 0)
    }

    /// Whether this moment comes after `other`.
    pub fn is_after(&self, other: &Self) -> bool {
        (self.seconds, self.nanos) > (other.seconds, other.nanos)
    }
}

impl TryFrom<String> for DateTime {
    type Error = RuleError;
    fn try_from(raw: String) -> Result<Self, RuleError> {
        Self::parse(&raw)
    }
}

impl From<DateTime> for String {
    fn from(value: DateTime) -> String {
        value.text
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for DateTime {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema(Self::RULE, Self::PATTERN, Self::LENGTH)
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for DateTime {}

// By hand, not derived: the macro's types share one definition, and only these two take
// the empty string (a derived default for the others would be a value their rule refuses).
#[allow(clippy::derivable_impls)]
impl Default for Description {
    fn default() -> Self {
        Self(String::new())
    }
}

#[allow(clippy::derivable_impls)]
impl Default for Comment {
    fn default() -> Self {
        Self(String::new())
    }
}

show_value!(
    UserName,
    Phone,
    RealName,
    BusinessName,
    LongText,
    Scale,
    Comment,
    TokenName,
    WebhookUrl,
    EventPattern,
    Description,
    TargetType,
    ClientName,
    RedirectUri
);

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Text(***)")
    }
}

/// Unix seconds as the UTC calendar date and time: (year, month, day, hour, minute,
/// second), by Howard Hinnant's algorithm for the civil date of a day count.
pub fn civil_time(seconds: i64) -> (i64, i64, i64, i64, i64, i64) {
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn unix_seconds_become_calendar_dates_and_times() {
        assert_eq!(super::civil_time(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(super::civil_time(951_782_400 + 3_723), (2000, 2, 29, 1, 2, 3));
        assert_eq!(super::civil_time(-1), (1969, 12, 31, 23, 59, 59));
    }

    use super::*;

    #[test]
    fn user_names_follow_the_rule() {
        for ok in [
            "ab",
            "a1",
            "Zed",
            "9lives",
            "a.b-c_d",
            &"x".repeat(32),
            "  padded  ",
        ] {
            assert!(UserName::parse(ok).is_ok(), "{ok:?} should pass");
        }
        for bad in [
            "",
            "a",
            &"x".repeat(33),
            "_ab",
            ".ab",
            "-ab",
            "a b",
            "ab!",
            "ünï",
            "ab\u{0}",
        ] {
            assert_eq!(
                UserName::parse(bad),
                Err(RuleError(UserName::RULE)),
                "{bad:?} should fail"
            );
        }
        assert_eq!(UserName::parse("  alice ").unwrap().as_str(), "alice");
    }

    #[test]
    fn passwords_need_length_and_three_classes_and_are_not_trimmed() {
        for ok in ["Abcdefg1", "Abcdefghijklmnopqr12", "aB3 xxxx", "ÜnïcodeA1"] {
            assert!(Password::parse(ok).is_ok(), "{ok:?} should pass");
        }
        for bad in [
            "Abcdef1",
            "Abcdefghijklmnopqrs12",
            "abcdefg1",
            "ABCDEFG1",
            "Abcdefgh",
            "",
        ] {
            assert!(Password::parse(bad).is_err(), "{bad:?} should fail");
        }
        assert_eq!(Password::parse(" Abcdef1 ").unwrap().as_str(), " Abcdef1 ");
    }

    #[test]
    fn the_password_checklist_reports_each_part() {
        let parts = Password::checklist("abc");
        assert_eq!(
            parts.map(|(_, ok)| ok),
            [false, false, true, false],
            "only the lowercase part holds"
        );
        assert!(Password::checklist("Abcdefg1").iter().all(|(_, ok)| *ok));
    }

    #[test]
    fn phones_are_digits_with_an_optional_plus() {
        for ok in ["12345", "+8613800138000", &"1".repeat(20), " 12345 "] {
            assert!(Phone::parse(ok).is_ok(), "{ok:?} should pass");
        }
        for bad in [
            "1234",
            &"1".repeat(21),
            "++12345",
            "123-456",
            "12345+",
            "+",
            "",
            "１２３４５",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn real_names_count_characters_not_bytes() {
        assert!(RealName::parse("王").is_ok());
        assert!(RealName::parse(&"王".repeat(64)).is_ok());
        assert!(RealName::parse(&"王".repeat(65)).is_err());
        assert!(RealName::parse("   ").is_err());
        assert_eq!(RealName::parse("  Ann Lee ").unwrap().as_str(), "Ann Lee");
    }

    #[test]
    fn business_names_are_dns_labels() {
        for ok in ["a", "edge-1", "0abc", &"a".repeat(63)] {
            assert!(BusinessName::parse(ok).is_ok(), "{ok:?} should pass");
        }
        for bad in ["", "-a", "a-", "Edge", "a_b", "a.b", &"a".repeat(64), "ä"] {
            assert!(BusinessName::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn texts_scales_and_comments_have_their_lengths() {
        assert!(LongText::parse(&"字".repeat(1000)).is_ok());
        assert!(LongText::parse(&"字".repeat(1001)).is_err());
        assert!(LongText::parse(" ").is_err());
        assert!(Scale::parse(&"s".repeat(64)).is_ok());
        assert!(Scale::parse(&"s".repeat(65)).is_err());
        assert!(Scale::parse("").is_err());
        assert!(Comment::parse("").is_ok());
        assert!(Comment::parse(&"c".repeat(512)).is_ok());
        assert!(Comment::parse(&"c".repeat(513)).is_err());
    }

    #[test]
    fn deserialising_runs_the_rule() {
        let err = serde_json::from_str::<UserName>("\"a\"").unwrap_err();
        assert!(err.to_string().starts_with(UserName::RULE), "{err}");
        let name: UserName = serde_json::from_str("\" bob \"").unwrap();
        assert_eq!(name.as_str(), "bob");
    }

    /// Each rule's `PATTERN` (and `LENGTH`) accepts exactly the raw values `parse` accepts,
    /// over values built from the characters where rules differ: blanks, controls, letters,
    /// digits, punctuation, wide characters, at every length around the bounds.
    #[test]
    fn every_pattern_says_what_its_rule_says() {
        fn agree<T>(
            name: &str,
            pattern: &str,
            length: Option<(usize, usize)>,
            parse: fn(&str) -> Result<T, RuleError>,
        ) {
            let regex = fancy_regex::Regex::new(pattern).unwrap();
            let alphabet: Vec<char> = " \t\n\r\u{0}\u{1f}\u{7f}\u{85}\u{a0}aZ09_.-+!字ü\u{3000}"
                .chars()
                .collect();
            let mut seed = 0x2545_f491_4f6c_dd1d_u64;
            let mut next = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            for case in 0..20_000 {
                let len = match case % 4 {
                    0 => (next() % 6) as usize,
                    1 => (next() % 70) as usize,
                    _ => [1, 2, 7, 8, 20, 21, 32, 33, 62, 63, 64, 65, 512, 513, 1000, 1001]
                        [(next() % 16) as usize],
                };
                // Mostly plain characters, so that long values can pass too.
                let raw: String = (0..len)
                    .map(|_| {
                        let pick = next();
                        if pick % 8 == 0 {
                            alphabet[(pick >> 8) as usize % alphabet.len()]
                        } else {
                            ['a', 'B', '3', 'x'][(pick >> 8) as usize % 4]
                        }
                    })
                    .collect();
                let count = raw.chars().count();
                let by_schema = regex.is_match(&raw).unwrap()
                    && length.is_none_or(|(min, max)| (min..=max).contains(&count));
                assert_eq!(by_schema, parse(&raw).is_ok(), "{name}: {raw:?}");
            }
        }
        agree("user", UserName::PATTERN, UserName::LENGTH, UserName::parse);
        agree("password", Password::PATTERN, Password::LENGTH, Password::parse);
        agree("phone", Phone::PATTERN, Phone::LENGTH, Phone::parse);
        agree("realName", RealName::PATTERN, RealName::LENGTH, RealName::parse);
        agree(
            "name",
            BusinessName::PATTERN,
            BusinessName::LENGTH,
            BusinessName::parse,
        );
        agree("introduce", LongText::PATTERN, LongText::LENGTH, LongText::parse);
        agree("scale", Scale::PATTERN, Scale::LENGTH, Scale::parse);
        agree("comment", Comment::PATTERN, Comment::LENGTH, Comment::parse);
        agree("text", Text::PATTERN, Text::LENGTH, Text::parse);
        agree("name", TokenName::PATTERN, TokenName::LENGTH, TokenName::parse);
        agree("url", WebhookUrl::PATTERN, WebhookUrl::LENGTH, WebhookUrl::parse);
        agree("name", ClientName::PATTERN, ClientName::LENGTH, ClientName::parse);
        agree(
            "redirectUris",
            RedirectUri::PATTERN,
            RedirectUri::LENGTH,
            RedirectUri::parse,
        );
        let regex = fancy_regex::Regex::new(RedirectUri::PATTERN).unwrap();
        let longest_host = format!("https://{}", "h".repeat(253));
        let longest_path = format!("https://a/{}", "p".repeat(480));
        for (uri, valid) in [
            ("https://grafana.example/login/generic_oauth", true),
            ("https://a", true),
            ("http://localhost:8000", true),
            ("http://127.0.0.1:18000/callback?x=1", true),
            ("http://[::1]:8000/", true),
            ("http://[::1]", true),
            ("https://", false),
            ("https:///path", false),
            ("https://a/#frag", false),
            ("http://example.com/cb", false),
            ("http://127.0.0.1.example.com/", false),
            ("http://localhost:123456/", false),
            ("http://[::2]/", false),
            ("ftp://a/", false),
            ("https://a b/", false),
            ("https://[x/cb", false),
            ("https://[::1]/cb", false),
            ("https://trusted.example@elsewhere.example/", false),
            ("https://-a/", false),
            ("https://a..b", true),
            ("https://host.example:8443/cb?x=1", true),
            ("https://a:65535/", true),
            ("https://a:65536/", false),
            ("https://a:08080/", false),
            ("https://a:/", false),
            ("http://localhost:99999/", false),
            ("http://localhost:0", true),
            (longest_host.as_str(), true),
            (format!("{longest_host}h").as_str(), false),
            (longest_path.as_str(), true),
            (format!("{longest_path}p").as_str(), false),
        ] {
            assert_eq!(RedirectUri::parse(uri).is_ok(), valid, "{uri}");
            assert_eq!(regex.is_match(uri).unwrap(), valid, "pattern: {uri}");
        }
        agree(
            "events",
            EventPattern::PATTERN,
            EventPattern::LENGTH,
            EventPattern::parse,
        );
        agree(
            "description",
            Description::PATTERN,
            Description::LENGTH,
            Description::parse,
        );
        agree(
            "targetType",
            TargetType::PATTERN,
            TargetType::LENGTH,
            TargetType::parse,
        );
    }

    #[test]
    fn date_times_are_rfc_3339_with_real_dates() {
        let at = |raw: &str| DateTime::parse(raw).map(|t| (t.seconds(), t.whole_seconds_from()));
        assert_eq!(at("1970-01-01T00:00:00Z"), Ok((0, 0)));
        assert_eq!(at(" 1970-01-01t00:00:00z "), Ok((0, 0)));
        assert_eq!(
            at("2024-05-01T08:00:00+08:00"),
            Ok((1_714_521_600, 1_714_521_600))
        );
        assert_eq!(
            at("2024-04-30T23:30:00-00:30"),
            Ok((1_714_521_600, 1_714_521_600))
        );
        assert_eq!(at("2000-02-29T12:34:56.5Z"), Ok((951_827_696, 951_827_697)));
        assert_eq!(at("1969-12-31T23:59:59.999999999Z"), Ok((-1, 0)));
        assert_eq!(
            DateTime::day(2024, 5, 1).map(|d| d.seconds()),
            Some(1_714_521_600)
        );
        assert!(DateTime::day(2023, 2, 29).is_none());
        for seconds in [
            0,
            -1,
            951_782_400,
            1_714_521_599,
            253_402_300_799,
            -62_167_219_200,
        ] {
            assert_eq!(
                DateTime::from_unix(seconds).map(|t| t.seconds()),
                Some(seconds),
                "{seconds}"
            );
        }
        assert_eq!(
            DateTime::from_unix(951_868_800).unwrap().as_str(),
            "2000-03-01T00:00:00Z"
        );
        assert!(DateTime::from_unix(253_402_300_800).is_none());
        for ok in [
            "0000-02-29T00:00:00Z",
            "2400-02-29T00:00:00Z",
            "9999-12-31T23:59:59.123456789+23:59",
        ] {
            assert!(DateTime::parse(ok).is_ok(), "{ok:?} should pass");
        }
        for bad in [
            "",
            "2024-05-01",
            "2024-05-01 00:00:00Z",
            "2024-05-01T00:00:00",
            "2024-05-01T00:00Z",
            "1900-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-00-01T00:00:00Z",
            "2024-05-00T00:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T00:60:00Z",
            "2016-12-31T23:59:60Z",
            "2024-05-01T00:00:00.Z",
            "2024-05-01T00:00:00.1234567890Z",
            "2024-05-01T00:00:00+24:00",
            "2024-05-01T00:00:00+08",
            "2024-05-01T00:00:00 08:00",
            "+2024-05-01T00:00:00Z",
            "２024-05-01T00:00:00Z",
        ] {
            assert!(DateTime::parse(bad).is_err(), "{bad:?} should fail");
        }
        let early = DateTime::parse("2024-05-01T00:00:00.1Z").unwrap();
        let later = DateTime::parse("2024-05-01T00:00:00.2Z").unwrap();
        assert!(later.is_after(&early) && !early.is_after(&later) && !early.is_after(&early));
    }

    /// The pattern of `DateTime` says what `DateTime::parse` says, over values made by
    /// varying each field around its bounds and breaking the layout.
    #[test]
    fn the_date_time_pattern_says_what_its_rule_says() {
        let regex = fancy_regex::Regex::new(DateTime::PATTERN).unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut passed = 0;
        for _ in 0..40_000 {
            let year = [0, 1900, 2000, 2023, 2024, 2100, 2400, 9999, next(10_000) as i64][next(9) as usize];
            let fraction = match next(4) {
                0 => format!(".{}", "7".repeat(next(11) as usize)),
                _ => String::new(),
            };
            let zone = match next(6) {
                0 => "Z".to_owned(),
                1 => "z".to_owned(),
                2 => String::new(),
                _ => format!(
                    "{}{:02}:{:02}",
                    ["+", "-", " "][next(3) as usize],
                    next(26),
                    next(62)
                ),
            };
            let mut raw = format!(
                "{year:04}-{:02}-{:02}{}{:02}:{:02}:{:02}{fraction}{zone}",
                next(14),
                next(33),
                ["T", "t", " ", "T"][next(4) as usize],
                next(25),
                next(61),
                next(62)
            );
            if next(10) == 0 {
                // Break one character, or pad the value with blanks or a control character.
                let at = next(raw.len() as u64) as usize;
                let with = ["", "x", "0", ":", "-", "\n", "\u{0}", " "][next(8) as usize];
                raw = match next(3) {
                    0 => format!("{}{with}{}", &raw[..at], &raw[at + 1..]),
                    1 => format!("{with}{raw}"),
                    _ => format!("{raw}{with}"),
                };
            }
            let by_schema = regex.is_match(&raw).unwrap();
            assert_eq!(by_schema, DateTime::parse(&raw).is_ok(), "{raw:?}");
            passed += usize::from(by_schema);
        }
        assert!(passed > 1_000, "too few valid values to compare: {passed}");
    }

    #[test]
    fn control_characters_are_refused_in_every_field() {
        for bad in ["a\u{0}b", "a\u{7}b", "a\u{1b}b", "a\u{7f}b", "a\u{85}b", "a\rb"] {
            assert!(RealName::parse(bad).is_err(), "{bad:?}");
            assert!(Scale::parse(bad).is_err(), "{bad:?}");
            assert!(LongText::parse(bad).is_err(), "{bad:?}");
            assert!(Comment::parse(bad).is_err(), "{bad:?}");
            assert!(Text::parse(bad).is_err(), "{bad:?}");
            assert!(Password::parse(&format!("Abcdefg1{bad}")).is_err(), "{bad:?}");
        }
        assert!(LongText::parse("line one\n\tline two").is_ok());
        assert!(Comment::parse("ok\nfine").is_ok());
        assert!(RealName::parse("Ann\nLee").is_err());
    }
}
