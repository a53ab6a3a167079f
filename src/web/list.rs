//! What every list page shares: the pager and sortable column headers, with links that keep the
//! current filters so a filtered view can be bookmarked.

use crate::services::query::{PAGE_SIZES, Page};

/// Query-string pairs for the current filters (without page, sort, direction).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        ser.append_pair(k, v);
    }
    ser.finish()
}

fn join(path: &str, parts: &[&str]) -> String {
    let q: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

pub struct Sorter {
    path: String,
    filters: String,
    pub sort: String,
    pub desc: bool,
}

impl Sorter {
    pub fn new(path: &str, filters: &str, sort: &str, desc: bool) -> Self {
        Self {
            path: path.into(),
            filters: filters.into(),
            sort: sort.into(),
            desc,
        }
    }

    /// Link for a column header: ascending first, toggles when already sorted by it.
    pub fn href(&self, column: &str) -> String {
        let dir = if self.sort == column && !self.desc {
            "desc"
        } else {
            "asc"
        };
        let q = query_string(&[("sort", column), ("dir", dir)]);
        join(&self.path, &[&self.filters, &q])
    }

    pub fn arrow(&self, column: &str) -> &'static str {
        match (self.sort == column, self.desc) {
            (true, false) => "▲",
            (true, true) => "▼",
            _ => "",
        }
    }

    fn query(&self) -> String {
        query_string(&[
            ("sort", &self.sort),
            ("dir", if self.desc { "desc" } else { "asc" }),
        ])
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
    pub fn new<T>(path: &str, filters: &str, sorter: Option<&Sorter>, page: &Page<T>) -> Self {
        let sort = sorter.map(Sorter::query).unwrap_or_default();
        Self {
            path: path.into(),
            keep: [filters, sort.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("&"),
            page: page.paging.page,
            pages: page.pages(),
            per_page: page.paging.per_page,
            total: page.total,
            first: page.first_index(),
            last: page.last_index(),
        }
    }

    pub fn href(&self, page: &u64) -> String {
        let q = format!("page={page}&per_page={}", self.per_page);
        join(&self.path, &[&self.keep, &q])
    }

    pub fn size_href(&self, size: &u64) -> String {
        join(&self.path, &[&self.keep, &format!("per_page={size}")])
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
    use crate::services::query::Paging;

    #[test]
    fn links_keep_filters() {
        let page = Page {
            items: vec![(); 50],
            total: 312,
            paging: Paging {
                page: 3,
                per_page: 50,
            },
        };
        let sorter = Sorter::new("/users", "q=a+b", "username", false);
        let pager = Pager::new("/users", "q=a+b", Some(&sorter), &page);
        assert_eq!(
            pager.href(&4),
            "/users?q=a+b&sort=username&dir=asc&page=4&per_page=50"
        );
        assert_eq!(
            sorter.href("username"),
            "/users?q=a+b&sort=username&dir=desc"
        );
        assert_eq!(pager.window(), vec![1, 2, 3, 4, 5, 0, 7]);
        assert_eq!((pager.first, pager.last), (101, 150));
    }
}
