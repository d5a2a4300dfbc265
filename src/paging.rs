//! Paging of list RPCs: page sizes and opaque keyset page tokens.
//!
//! A token is the key of the last item of a page, hex-encoded behind a short tag naming what it pages, so that a
//! token of one list is refused by another and the next page is a keyset scan, never an OFFSET.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{error::Error, proto::v1 as pb};

const DEFAULT_PAGE_SIZE: u32 = 100;
const MAX_PAGE_SIZE: u32 = 1000;

/// The number of items to answer: 100 by default, at most 1000.
pub fn limit(page: &pb::PageRequest) -> i64 {
    i64::from(match page.page_size {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    })
}

/// A token for the page after the item keyed `key`, in the list tagged `tag`.
pub fn token(tag: &str, key: &str) -> String {
    hex::encode(format!("{tag}.{key}"))
}

/// The key inside `token` of list `tag`; None for a token from elsewhere.
pub fn key(tag: &str, token: &str) -> Option<String> {
    let decoded = String::from_utf8(hex::decode(token).ok()?).ok()?;
    decoded.strip_prefix(tag)?.strip_prefix('.').map(str::to_owned)
}

/// A token for lists ordered by (creation time, id).
pub fn time_token(tag: &str, at: DateTime<Utc>, id: Uuid) -> String {
    token(tag, &format!("{}.{id}", at.timestamp_micros()))
}

/// The (creation time, id) inside a page token of list `tag`: None for the first page, INVALID_ARGUMENT for a
/// token this list did not make.
pub fn after_time(tag: &str, page: &pb::PageRequest) -> Result<Option<(DateTime<Utc>, Uuid)>, Error> {
    if page.page_token.is_empty() {
        return Ok(None);
    }
    let parsed = key(tag, &page.page_token).and_then(|key| {
        let (micros, id) = key.split_once('.')?;
        Some((DateTime::from_timestamp_micros(micros.parse().ok()?)?, Uuid::parse_str(id).ok()?))
    });
    match parsed {
        Some(after) => Ok(Some(after)),
        None => Err(invalid_token()),
    }
}

pub fn invalid_token() -> Error {
    Error::invalid("page.page_token", crate::msg!(PAGE_TOKEN_INVALID))
}

/// One page of a list as a service answers it: the items and the token of the page after it (empty for the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
}

impl<T> Page<T> {
    /// The page in `rows`, read with `limit + 1` as their limit: the extra row, dropped here, says that a next page
    /// exists; `token` keys the last item answered.
    pub fn of(mut rows: Vec<T>, limit: i64, token: impl FnOnce(&T) -> String) -> Page<T> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_page_token = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(token).unwrap_or_default()
        } else {
            String::new()
        };
        Page { items: rows, next_page_token }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_page_token: self.next_page_token }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_belong_to_their_list() {
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
        let id = Uuid::from_u128(42);
        let page = |token: String| pb::PageRequest { page_size: 0, page_token: token };
        assert_eq!(after_time("e1", &page(time_token("e1", at, id))).unwrap(), Some((at, id)));
        assert!(after_time("s1", &page(time_token("e1", at, id))).is_err());
        assert!(after_time("e1", &page("zz".into())).is_err());
        assert_eq!(after_time("e1", &page(String::new())).unwrap(), None);
        assert_eq!(key("w1", &token("w1", "3271014501900001")).as_deref(), Some("3271014501900001"));
    }

    #[test]
    fn page_sizes_default_to_100_and_stop_at_1000() {
        let check = |size, expected| {
            assert_eq!(limit(&pb::PageRequest { page_size: size, page_token: String::new() }), expected)
        };
        check(0, 100);
        check(7, 7);
        check(5000, 1000);
    }

    #[test]
    fn a_page_has_a_next_token_only_when_a_row_beyond_it_was_read() {
        let check = |rows: Vec<u32>, limit: i64, expected: (Vec<u32>, &str)| {
            let page = Page::of(rows, limit, |last| last.to_string());
            assert_eq!((page.items, page.next_page_token.as_str()), expected);
        };
        check(vec![1, 2, 3], 2, (vec![1, 2], "2"));
        check(vec![1, 2], 2, (vec![1, 2], ""));
        check(vec![], 2, (vec![], ""));
    }
}
