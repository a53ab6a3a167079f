//! The list contract. Every list page reads its address with one extractor, [`ListQuery`]: the
//! page and page size, the order (for lists with sortable columns) and the list's own filters, a
//! plain struct that serde reads from the query string and writes back into it. Its pager and
//! sortable column headers are built from the same value, so every link keeps the current view
//! and a filtered view can be bookmarked.
//!
//! A list never refuses its address: junk in any parameter falls back to that parameter's
//! default, because a list address is often typed, edited or kept from an older version.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::services::query::{Direction, PAGE_SIZES, Page, Paging, Sort, SortColumn};

/// A list's address, read. `F` is the list's filters: a `Deserialize + Serialize + Default`
/// struct with `#[serde(default)]`, its fields named as the query string names them, text as
/// `String` (read with [`trimmed`] when the search ignores surrounding spaces), and a choice or an
/// id as an `Option` read with [`lenient`]. `S` is [`Sort`] over the list's columns, or
/// [`Unsorted`].
pub struct ListQuery<F, S = Unsorted> {
    pub paging: Paging,
    pub sort: S,
    pub filters: F,
    /// Where the list is, for its links: the request's own path, so a list under an object
    /// (`/tags/7`) needs no address built again by its handler.
    path: String,
}

impl<F: DeserializeOwned + Default, S: Sorting> ListQuery<F, S> {
    /// Reads the query string of a request for the list at `path`.
    pub fn parse(path: &str, query: &str) -> Self {
        // A name given twice keeps its last value (as a toggle in a form does): serde would
        // refuse the repeat, and a list does not refuse its address. Invalid UTF-8 is replaced.
        let last: BTreeMap<Cow<str>, Cow<str>> = form_urlencoded::parse(query.as_bytes()).collect();
        let value = |name: &str| last.get(name).map(AsRef::as_ref);
        let once = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&last)
            .finish();
        Self {
            paging: Paging::parse(value("page"), value("per_page")),
            sort: S::read(value("sort"), value("dir")),
            // Lenient fields make this infallible; a filter struct that is not shows the list
            // unfiltered rather than an error.
            filters: serde_html_form::from_str(&once).unwrap_or_default(),
            path: path.to_string(),
        }
    }
}

impl<F, S> FromRequest for ListQuery<F, S>
where
    F: DeserializeOwned + Default + 'static,
    S: Sorting + 'static,
{
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::parse(req.path(), req.query_string())))
    }
}

impl<F: Serialize, S: Sorting> ListQuery<F, S> {
    /// The filters as a query string, without empty ones (the export link, the pager's links).
    pub fn filters_query(&self) -> String {
        let all = match serde_html_form::to_string(&self.filters) {
            Ok(all) => all,
            Err(e) => {
                // A filter struct of text, numbers and unit enums always serializes.
                tracing::error!(error = %e, "a list's filters cannot be written into a link");
                String::new()
            }
        };
        all.split('&')
            .filter(|pair| !pair.is_empty() && !pair.ends_with('='))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// A link to `path` (another view of the same rows, such as an export) with these filters.
    pub fn filters_link(&self, path: &str) -> String {
        link(path, &[&self.filters_query()])
    }

    /// The pager for a page of this list: its links keep the filters and the order.
    pub fn pager<T>(&self, page: &Page<T>) -> Pager {
        let keep = joined(&[&self.filters_query(), &self.sort.query()]);
        Pager::new(&self.path, keep, page)
    }
}

impl<F: Serialize, C: SortColumn> ListQuery<F, Sort<C>> {
    /// The column headers' links: each keeps the filters and starts again on the first page.
    pub fn sorter(&self) -> Sorter<C> {
        Sorter {
            path: self.path.clone(),
            filters: self.filters_query(),
            sort: self.sort,
        }
    }
}

/// How a list's address orders it: [`Unsorted`] for a list shown in one fixed order, [`Sort`]
/// for a list with sortable columns.
pub trait Sorting: Sized {
    /// From the `sort` and `dir` values: a column the list does not have is its default column,
    /// any direction but `desc` ascending.
    fn read(column: Option<&str>, direction: Option<&str>) -> Self;
    /// The `sort` and `dir` pairs that keep this order in a link.
    fn query(&self) -> String;
}

/// The order of a list that has one fixed order (newest first, by host name): it reads no
/// parameter and writes none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unsorted;

impl Sorting for Unsorted {
    fn read(_: Option<&str>, _: Option<&str>) -> Self {
        Unsorted
    }
    fn query(&self) -> String {
        String::new()
    }
}

impl<C: SortColumn> Sorting for Sort<C> {
    fn read(column: Option<&str>, direction: Option<&str>) -> Self {
        Sort {
            column: column.and_then(C::parse).unwrap_or(C::DEFAULT),
            direction: direction.and_then(Direction::parse).unwrap_or_default(),
        }
    }
    fn query(&self) -> String {
        query_string(&[("sort", self.column.name()), ("dir", self.direction.name())])
    }
}

/// The filters of a list that has none.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct NoFilters {}

/// For a filter that takes one of a set of values (a status, an id): anything else is no
/// filter, so that a stale or hand-edited address shows the list instead of an error. Use with
/// `#[serde(deserialize_with = "lenient")]` on an `Option`.
pub fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(T::deserialize(deserializer).ok())
}

/// For a text search, which ignores the spaces around what was typed: the page shows it and its
/// links keep it as searched.
pub fn trimmed<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(text.trim().to_string())
}

/// A date filter as the form's date field sends it (`2026-11-22`): none when empty. The filter
/// keeps the text, so that the form shows an invalid date again as typed beside its message.
pub fn date(text: &str) -> Result<Option<NaiveDate>, chrono::ParseError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map(Some)
}

/// Query-string pairs, without the empty ones.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// Query strings joined into one, without the empty ones.
fn joined(parts: &[&str]) -> String {
    parts
        .iter()
        .copied()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("&")
}

fn link(path: &str, parts: &[&str]) -> String {
    let query = joined(parts);
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// A list's sortable column headers: their links and the arrow on the current one.
pub struct Sorter<C> {
    path: String,
    filters: String,
    sort: Sort<C>,
}

impl<C: SortColumn> Sorter<C> {
    /// Link for a column header: ascending first, toggles when already sorted by it.
    pub fn href(&self, column: C) -> String {
        let ascending_now =
            self.sort.column == column && self.sort.direction == Direction::Ascending;
        let direction = if ascending_now {
            Direction::Descending
        } else {
            Direction::Ascending
        };
        link(
            &self.path,
            &[&self.filters, &Sort { column, direction }.query()],
        )
    }

    pub fn arrow(&self, column: C) -> &'static str {
        match (self.sort.column == column, self.sort.direction) {
            (true, Direction::Ascending) => "▲",
            (true, Direction::Descending) => "▼",
            (false, _) => "",
        }
    }
}

pub struct Pager {
    path: String,
    keep: String,
    pub page: u64,
    pub pages: u64,
    pub per_page: u64,
    pub total: u64,
    pub first: u64,
    pub last: u64,
}

impl Pager {
    /// `keep`: the query string every link carries (the filters and the order).
    fn new<T>(path: &str, keep: String, page: &Page<T>) -> Self {
        Self {
            path: path.into(),
            keep,
            page: page.paging.page(),
            pages: page.pages(),
            per_page: page.paging.per_page(),
            total: page.total,
            first: page.first_index(),
            last: page.last_index(),
        }
    }

    pub fn href(&self, page: &u64) -> String {
        let q = format!("page={page}&per_page={}", self.per_page);
        link(&self.path, &[&self.keep, &q])
    }

    pub fn size_href(&self, size: &u64) -> String {
        link(&self.path, &[&self.keep, &format!("per_page={size}")])
    }

    pub fn sizes(&self) -> &'static [u64] {
        &PAGE_SIZES
    }

    /// Page numbers to show: first, last and two either side of the current; 0 marks a gap.
    pub fn window(&self) -> Vec<u64> {
        let mut out = Vec::new();
        for p in 1..=self.pages {
            let near = p + 2 >= self.page && p <= self.page + 2;
            if p == 1 || p == self.pages || near {
                out.push(p);
            } else if out.last() != Some(&0) {
                out.push(0);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::query::sort_columns;
    use crate::vocabulary::JobStatus;

    sort_columns! {
        enum Column {
            Name = "name",
            Age = "age",
        } default Name
    }

    #[derive(Debug, Default, PartialEq, Deserialize, Serialize)]
    #[serde(default)]
    struct Filters {
        #[serde(deserialize_with = "trimmed")]
        q: String,
        #[serde(deserialize_with = "lenient")]
        status: Option<JobStatus>,
        #[serde(deserialize_with = "lenient")]
        tag: Option<i32>,
        from: String,
    }

    type Query = ListQuery<Filters, Sort<Column>>;

    #[test]
    fn junk_falls_back_to_the_defaults() {
        let list = Query::parse(
            "/things",
            "page=x&per_page=-1&sort=%27;drop&dir=sideways&q=&status=junk&tag=junk&from=&extra=1",
        );
        assert_eq!(list.paging, Paging::page_of(1, 50));
        assert_eq!(list.sort, Sort::default());
        assert_eq!(list.sort.column, Column::Name);
        assert_eq!(list.filters, Filters::default());
        assert_eq!(list.filters_query(), "");
        for (query, page, per_page) in [
            ("page=0&per_page=30", 1, 50),
            ("page=-2&per_page=25.0", 1, 50),
            ("page=99999999999999999999999", 1, 50),
            ("page=9223372036854775807&per_page=250", 1_000_000_000, 250),
        ] {
            let paging = Query::parse("/things", query).paging;
            assert_eq!(
                (paging.page(), paging.per_page()),
                (page, per_page),
                "{query}"
            );
        }
        let list = ListQuery::<Filters>::parse("/things", "%FF=%FE&sort=age&dir=desc");
        assert_eq!(list.sort, Unsorted);
        assert_eq!(list.sort.query(), "");
    }

    #[test]
    fn a_valid_address_is_read_and_a_repeated_name_keeps_its_last_value() {
        let list = Query::parse(
            "/things",
            "page=3&per_page=25&sort=age&dir=desc&q=+a+b+&status=failed&tag=1&tag=7&from=2026-11-22",
        );
        assert_eq!(
            (list.paging.page(), list.paging.per_page()),
            (3, 25),
            "page and size"
        );
        assert_eq!(
            list.sort,
            Sort {
                column: Column::Age,
                direction: Direction::Descending
            }
        );
        assert_eq!(
            list.filters,
            Filters {
                q: "a b".into(),
                status: Some(JobStatus::Failed),
                tag: Some(7),
                from: "2026-11-22".into(),
            }
        );
    }

    #[test]
    fn filters_round_trip_without_their_empty_values() {
        let list = Query::parse("/things", "q=a%26b+c&status=&tag=5&from=");
        let written = list.filters_query();
        assert_eq!(written, "q=a%26b+c&tag=5");
        assert_eq!(Query::parse("/things", &written).filters, list.filters);
        assert_eq!(
            list.filters_link("/things/export.csv"),
            "/things/export.csv?q=a%26b+c&tag=5"
        );
        let none = ListQuery::<NoFilters>::parse("/things", "q=a");
        assert_eq!(none.filters_query(), "");
        assert_eq!(
            none.filters_link("/things/export.csv"),
            "/things/export.csv"
        );
    }

    #[test]
    fn links_keep_filters_and_order() {
        let page = Page {
            items: vec![(); 50],
            total: 312,
            paging: Paging::page_of(3, 50),
        };
        let list = Query::parse("/things", "q=a+b&sort=name&page=3");
        let sorter = list.sorter();
        let pager = list.pager(&page);
        assert_eq!(
            pager.href(&4),
            "/things?q=a+b&sort=name&dir=asc&page=4&per_page=50"
        );
        assert_eq!(
            pager.size_href(&100),
            "/things?q=a+b&sort=name&dir=asc&per_page=100"
        );
        assert_eq!(
            sorter.href(Column::Name),
            "/things?q=a+b&sort=name&dir=desc"
        );
        assert_eq!(sorter.href(Column::Age), "/things?q=a+b&sort=age&dir=asc");
        assert_eq!(
            (sorter.arrow(Column::Name), sorter.arrow(Column::Age)),
            ("▲", "")
        );
        assert_eq!(pager.window(), vec![1, 2, 3, 4, 5, 0, 7]);
        assert_eq!((pager.first, pager.last), (101, 150));

        let unsorted = ListQuery::<NoFilters>::parse("/tags/7", "sort=name&page=2");
        assert_eq!(unsorted.pager(&page).href(&2), "/tags/7?page=2&per_page=50");
    }
}
