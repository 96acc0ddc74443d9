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

/// Declares a validated string newtype: serde goes through `parse`, so an invalid value
/// can never be deserialised, and `RULE` is the sentence an error message shows.
macro_rules! rule_string {
    ($(#[$doc:meta])* $name:ident, rule = $rule:expr, trim = $trim:expr, check = $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "ssr", schema(value_type = String))]
        pub struct $name(String);

        impl $name {
            pub const RULE: &'static str = $rule;

            pub fn parse(raw: &str) -> Result<Self, RuleError> {
                let value = if $trim { raw.trim() } else { raw };
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
    };
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

rule_string!(
    /// A login name: unique case-insensitively among users not deleted (the database's job).
    UserName,
    rule = "must be 2-32 characters of ASCII letters, digits, '_', '.' or '-', starting with a letter or digit",
    trim = true,
    check = |v| {
        (2..=32).contains(&v.len())
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    }
);

rule_string!(
    /// A new password as typed: never trimmed, stored only as an Argon2id hash.
    Password,
    rule = "must be 8-20 characters with at least one uppercase letter, one lowercase letter and one digit",
    trim = false,
    check = |v| {
        char_count_within(v, 8, 20)
            && v.chars().any(|c| c.is_ascii_uppercase())
            && v.chars().any(|c| c.is_ascii_lowercase())
            && v.chars().any(|c| c.is_ascii_digit())
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
    check = |v| {
        let digits = v.strip_prefix('+').unwrap_or(v);
        (5..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    }
);

rule_string!(
    /// A person's name as they write it, in any script.
    RealName,
    rule = "must be 1-64 characters",
    trim = true,
    check = |v| char_count_within(v, 1, 64)
);

rule_string!(
    /// A business name: a DNS-1123 label, since it becomes a Kubernetes namespace.
    BusinessName,
    rule = "must be a DNS-1123 label: 1-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit",
    trim = true,
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
    rule = "must be 1-1000 characters",
    trim = true,
    check = |v| char_count_within(v, 1, 1000)
);

rule_string!(
    /// A business's `scale`.
    Scale,
    rule = "must be 1-64 characters",
    trim = true,
    check = |v| char_count_within(v, 1, 64)
);

rule_string!(
    /// The system administrator's comment on a business audit.
    Comment,
    rule = "must be at most 512 characters",
    trim = true,
    check = |v| char_count_within(v, 0, 512)
);

impl Default for Comment {
    fn default() -> Self {
        Self(String::new())
    }
}

show_value!(UserName, Phone, RealName, BusinessName, LongText, Scale, Comment);

#[cfg(test)]
mod tests {
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
}
