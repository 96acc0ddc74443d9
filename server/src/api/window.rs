//! Where a page of a list lies. A page past the middle is read from the other end: an
//! SQL `OFFSET` walks every row it skips, so the last page of a million users would walk
//! all of them, while from the other end it walks none.

use app::model::{Page, PageSize, SortOrder};

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
