//! Paging and order of the lists: `page`, `pageSize` and `order`, read from query text.

use super::whole_text;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::{IntoParams, ToSchema};

/// `page`: a whole number from 1; default 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "u32")]
pub struct Page(u32);

/// `pageSize`: a whole number from 1 to 100; default 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "u32")]
pub struct PageSize(u32);

macro_rules! bounded_number {
    ($name:ident, $min:expr, $max:expr, $default:expr, $rule:expr) => {
        impl $name {
            pub const RULE: &'static str = $rule;

            pub fn new(value: u32) -> Result<Self, crate::rules::RuleError> {
                if ($min..=$max).contains(&value) {
                    Ok(Self(value))
                } else {
                    Err(crate::rules::RuleError(Self::RULE))
                }
            }

            pub fn get(self) -> u32 {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self($default)
            }
        }

        impl TryFrom<String> for $name {
            type Error = crate::rules::RuleError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                let value = whole_text(&raw)
                    .and_then(|digits| digits.parse().ok())
                    .ok_or(crate::rules::RuleError(Self::RULE))?;
                Self::new(value)
            }
        }

        impl From<$name> for u32 {
            fn from(value: $name) -> u32 {
                value.0
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{ObjectBuilder, Type};
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some(Self::RULE))
                    .minimum(Some($min))
                    .maximum(Some($max))
                    .default(Some($default.into()))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}
    };
}

bounded_number!(Page, 1, u32::MAX, 1, "must be a whole number from 1");
bounded_number!(PageSize, 1, 100, 10, "must be a whole number from 1 to 100");

impl Page {
    /// Rows to skip before this page.
    pub fn offset(self, size: PageSize) -> i64 {
        (i64::from(self.0) - 1) * i64::from(size.0)
    }
}

/// `order`: `asc` (the default) or `desc`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

/// Query of a list that only pages (`AuditQuery` adds the audit log's filters).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", default)]
pub struct PageQuery {
    pub page: Page,
    pub page_size: PageSize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{UserOrder, UserQuery};

    #[test]
    fn pages_and_sizes_parse_from_query_text() {
        assert_eq!(Page::try_from("2.0".to_owned()), Ok(Page(2)));
        let q: UserQuery =
            serde_json::from_str(r#"{"page":"3","pageSize":"100","orderBy":"user_name","order":"desc"}"#)
                .unwrap();
        assert_eq!((q.page.get(), q.page_size.get()), (3, 100));
        assert_eq!((q.order_by, q.order), (UserOrder::UserName, SortOrder::Desc));
        for bad in [
            r#"{"page":"0"}"#,
            r#"{"pageSize":"101"}"#,
            r#"{"pageSize":"x"}"#,
            r#"{"orderBy":"name"}"#,
        ] {
            assert!(serde_json::from_str::<UserQuery>(bad).is_err(), "{bad}");
        }
        assert_eq!(Page::new(3).unwrap().offset(PageSize::new(10).unwrap()), 20);
    }
}
