//! The one way a page shows the difference between two texts (configuration versions, a file at
//! two commits): unified or side by side, with a chosen amount of context, and links that switch
//! between them while keeping the rest of the address. Pages hold a `DiffView` as `diff` and
//! include `partials/diff_summary.html` and `partials/diff_table.html`.

use serde::Deserialize;

use super::list::query_string;
use crate::services::config_diff::{Fold, LineDiff, Row, SideRow};

/// Lines of context around a change unless the address asks for another number.
pub const DEFAULT_CONTEXT: usize = 3;
/// More than this is the whole file.
const MAX_CONTEXT: usize = 100_000;

/// `view`, `context`, and the two sides (`from`, `to`) from the address. Unknown view and
/// context values fall back to the defaults, as paging does; each page checks its sides.
#[derive(Deserialize, Default)]
pub struct DiffQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    view: String,
    #[serde(default)]
    context: String,
}

impl DiffQuery {
    fn side(&self) -> bool {
        self.view == "side"
    }

    /// Lines of context; `None` shows the whole file.
    fn context(&self) -> Option<usize> {
        match self.context.trim() {
            "all" => None,
            c => match c.parse::<usize>() {
                Ok(n) if n <= MAX_CONTEXT => Some(n),
                Ok(_) => None,
                Err(_) => Some(DEFAULT_CONTEXT),
            },
        }
    }
}

pub struct DiffView<'a> {
    /// The address without `view` and `context`, and what else it keeps.
    path: String,
    keep: Vec<(&'static str, String)>,
    pub side: bool,
    context: Option<usize>,
    pub rows: Vec<Row<'a>>,
    pub side_rows: Vec<SideRow<'a>>,
    pub added: usize,
    pub removed: usize,
    /// The two sides' names in the side-by-side header ("v3", "a1b2c3d").
    pub old_label: String,
    pub new_label: String,
}

impl<'a> DiffView<'a> {
    pub fn new(
        diff: Option<&LineDiff<'a>>,
        query: &DiffQuery,
        path: String,
        keep: Vec<(&'static str, String)>,
        labels: (String, String),
    ) -> DiffView<'a> {
        let side = query.side();
        let context = query.context();
        let (rows, side_rows, added, removed) = match diff {
            Some(d) if side => (Vec::new(), d.side_by_side(context), d.added, d.removed),
            Some(d) => (d.unified(context), Vec::new(), d.added, d.removed),
            None => (Vec::new(), Vec::new(), 0, 0),
        };
        DiffView {
            path,
            keep,
            side,
            context,
            rows,
            side_rows,
            added,
            removed,
            old_label: labels.0,
            new_label: labels.1,
        }
    }

    fn href(&self, view: &str, context: &str) -> String {
        let mut pairs: Vec<(&str, &str)> =
            self.keep.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.push(("view", view));
        pairs.push(("context", context));
        format!("{}?{}", self.path, query_string(&pairs))
    }
    fn view_name(&self) -> &'static str {
        if self.side { "side" } else { "unified" }
    }
    fn context_name(&self) -> String {
        self.context.map_or_else(|| "all".into(), |c| c.to_string())
    }
    pub fn view_href(&self, view: &str) -> String {
        self.href(view, &self.context_name())
    }
    pub fn context_href(&self, context: &str) -> String {
        self.href(self.view_name(), context)
    }
    pub fn is_context(&self, context: &str) -> bool {
        self.context_name() == context
    }
    /// A fold expands into the whole file, scrolled to the first hidden line.
    pub fn fold_href(&self, fold: &Fold) -> String {
        format!("{}#n{}", self.href(self.view_name(), "all"), fold.new_start)
    }
    pub fn identical(&self) -> bool {
        self.added == 0 && self.removed == 0
    }
}
