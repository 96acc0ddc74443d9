//! Where a page of a list lies. A page past the middle is read from the other end: an
//! SQL `OFFSET` walks every row it skips, so the last page of a million users would walk
//! all of them, while from the other end it walks none.

use crate::error::{ApiError, ApiResult};
use app::model::{Page, PageSize, SortOrder};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyPool, Arguments, AssertSqlSafe, FromRow};

/// A value a list query binds. Typed even when empty: PostgreSQL must know the type of
/// every parameter, also of a filter the query leaves out.
#[derive(Debug, Clone)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl Value {
    pub fn int(n: i64) -> Self {
        Self::Int(Some(n))
    }

    pub fn text(text: String) -> Self {
        Self::Text(Some(text))
    }
}

/// `values`, in order, as `$1`, `$2`, ...
pub fn arguments<'v>(values: impl IntoIterator<Item = &'v Value>) -> ApiResult<AnyArguments> {
    let mut arguments = AnyArguments::default();
    for value in values {
        match value {
            Value::Int(n) => arguments.add(*n),
            Value::Text(text) => arguments.add(text.clone()),
        }
        .map_err(ApiError::internal)?;
    }
    Ok(arguments)
}

/// How many rows a list has: `sql` binds `$1` and `$2` (a page's limit and offset, unused
/// here, so that the filters are numbered as in the page's query) and then `filters`.
pub async fn count(pool: &AnyPool, sql: String, filters: &[Value]) -> ApiResult<i64> {
    let values = [Value::int(0), Value::int(0)];
    let arguments = arguments(values.iter().chain(filters))?;
    Ok(sqlx::query_scalar_with(AssertSqlSafe(sql), arguments)
        .fetch_one(pool)
        .await?)
}

/// A list's name filter as a `LIKE` pattern (`ESCAPE '\\'`): what the person typed,
/// trimmed and lowercased, its wildcards escaped; `None` when nothing was typed.
pub fn contains_pattern(typed: Option<&str>) -> Option<String> {
    let typed = typed.map(str::trim).filter(|t| !t.is_empty())?;
    Some(format!("%{}%", crate::db::escape_like(&typed.to_lowercase())))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: i64,
    pub offset: i64,
    reversed: bool,
}

impl Window {
    /// The rows of `page` in a list of `total` rows; `None` when the page is past the end.
    pub fn of(page: Page, size: PageSize, total: i64) -> Option<Self> {
        let limit = i64::from(size.get());
        let offset = page.offset(size);
        if offset >= total {
            return None;
        }
        if offset <= total / 2 {
            return Some(Self {
                limit,
                offset,
                reversed: false,
            });
        }
        let limit = limit.min(total - offset);
        Some(Self {
            limit,
            offset: total - offset - limit,
            reversed: true,
        })
    }

    /// The SQL direction to read in, for a list in `order`.
    pub fn direction(&self, order: SortOrder) -> &'static str {
        match (order, self.reversed) {
            (SortOrder::Asc, false) | (SortOrder::Desc, true) => "ASC",
            (SortOrder::Desc, false) | (SortOrder::Asc, true) => "DESC",
        }
    }

    /// The window's rows, read with `sql` (`$1` limit, `$2` offset, then `filters`), in
    /// the list's order and as the API shows them.
    pub async fn read<R, T>(
        &self,
        pool: &AnyPool,
        sql: String,
        filters: &[Value],
        shown: impl FnMut(R) -> ApiResult<T>,
    ) -> ApiResult<Vec<T>>
    where
        R: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let values = [Value::int(self.limit), Value::int(self.offset)];
        let arguments = arguments(values.iter().chain(filters))?;
        let rows: Vec<R> = sqlx::query_as_with(AssertSqlSafe(sql), arguments)
            .fetch_all(pool)
            .await?;
        self.arrange(rows).into_iter().map(shown).collect()
    }

    /// The rows as read, put in the list's order.
    pub fn arrange<T>(&self, mut rows: Vec<T>) -> Vec<T> {
        if self.reversed {
            rows.reverse();
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `window` from `list` (sorted ascending) the way SQL would.
    fn read(list: &[i64], window: Window, order: SortOrder) -> Vec<i64> {
        let mut sorted = list.to_vec();
        if window.direction(order) == "DESC" {
            sorted.reverse();
        }
        let rows = sorted
            .into_iter()
            .skip(window.offset as usize)
            .take(window.limit as usize)
            .collect();
        window.arrange(rows)
    }

    #[test]
    fn every_page_holds_the_rows_plain_paging_gives() {
        for total in 0..40_i64 {
            let list: Vec<i64> = (0..total).collect();
            for size in 1..=7_u32 {
                for page in 1..=12_u32 {
                    for order in [SortOrder::Asc, SortOrder::Desc] {
                        let mut in_order = list.clone();
                        if order == SortOrder::Desc {
                            in_order.reverse();
                        }
                        let plain: Vec<i64> = in_order
                            .into_iter()
                            .skip(((page - 1) * size) as usize)
                            .take(size as usize)
                            .collect();
                        let got = Window::of(Page::new(page).unwrap(), PageSize::new(size).unwrap(), total)
                            .map(|w| read(&list, w, order))
                            .unwrap_or_default();
                        assert_eq!(got, plain, "total {total}, size {size}, page {page}, {order:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_last_of_a_million_is_read_from_the_end() {
        let last = Page::new(100_000).unwrap();
        let window = Window::of(last, PageSize::new(10).unwrap(), 1_000_000).unwrap();
        assert_eq!((window.offset, window.limit), (0, 10));
        assert_eq!(window.direction(SortOrder::Asc), "DESC");
    }
}
