//! Differences between two stored configurations, line by line: the changed-line count stored
//! with every version, and the model the diff pages render (unified or side by side, line numbers
//! on both sides, long unchanged runs folded to a few lines of context around each change).

use std::ops::Range;
use std::time::Duration;

use similar::{Algorithm, ChangeTag, DiffOp, TextDiff};

/// How many lines were added or removed going from `old` to `new`.
pub fn changed_lines(old: &str, new: &str) -> usize {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .filter(|c| c.tag() != ChangeTag::Equal)
        .count()
}

/// A diff of two very different large files must not hold a request for long: past this, the
/// algorithm settles for a correct but not minimal difference (more lines marked changed).
const DIFF_TIMEOUT: Duration = Duration::from_millis(500);

fn text_diff<'a>(old: &'a str, new: &'a str) -> TextDiff<'a, 'a, str> {
    TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old, new)
}

/// The difference as unified diff text (`diff -u`, what `patch` and git tools read), with
/// `context` lines around each change; empty when the two are the same.
pub fn unified_text(
    old: &str,
    new: &str,
    old_name: &str,
    new_name: &str,
    context: usize,
) -> String {
    text_diff(old, new)
        .unified_diff()
        .context_radius(context)
        .header(old_name, new_name)
        .to_string()
}

/// One hunk of a unified diff, for clients that want it as data.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Hunk {
    /// First line of the hunk in the old text, from 1.
    pub old_start: usize,
    pub old_lines: usize,
    pub new_start: usize,
    pub new_lines: usize,
    pub lines: Vec<HunkLine>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct HunkLine {
    /// `" "` unchanged, `"-"` removed, `"+"` added.
    pub op: &'static str,
    pub text: String,
}

/// The same difference as [`unified_text`], as hunks.
pub fn hunks(old: &str, new: &str, context: usize) -> Vec<Hunk> {
    let diff = text_diff(old, new);
    diff.grouped_ops(context)
        .iter()
        .filter_map(|group| {
            let (first, last) = (group.first()?, group.last()?);
            let (old_range, new_range) = (
                first.old_range().start..last.old_range().end,
                first.new_range().start..last.new_range().end,
            );
            let lines = group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|change| HunkLine {
                    op: match change.tag() {
                        ChangeTag::Equal => " ",
                        ChangeTag::Delete => "-",
                        ChangeTag::Insert => "+",
                    },
                    text: change.value().trim_end_matches(['\n', '\r']).to_string(),
                })
                .collect();
            Some(Hunk {
                old_start: old_range.start + 1,
                old_lines: old_range.len(),
                new_start: new_range.start + 1,
                new_lines: new_range.len(),
                lines,
            })
        })
        .collect()
}

/// Unchanged runs shorter than this are shown rather than folded: a "1 unchanged line" fold
/// takes as much room as the line.
const MIN_FOLD: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Same,
    Added,
    Removed,
}

impl Kind {
    /// CSS class of a line of this kind.
    pub fn class(&self) -> &'static str {
        match self {
            Kind::Same => "same",
            Kind::Added => "add",
            Kind::Removed => "del",
        }
    }

    /// The unified-diff marker.
    pub fn sign(&self) -> &'static str {
        match self {
            Kind::Same => " ",
            Kind::Added => "+",
            Kind::Removed => "-",
        }
    }
}

/// One line of a unified diff; numbers are 1-based, absent on the side the line is not on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    pub kind: Kind,
    pub old_no: Option<usize>,
    pub new_no: Option<usize>,
    pub text: &'a str,
}

/// Unchanged lines left out; `old_start` and `new_start` are the 1-based numbers of the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    pub hidden: usize,
    pub old_start: usize,
    pub new_start: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row<'a> {
    Line(Line<'a>),
    Fold(Fold),
}

/// One side of a side-by-side row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell<'a> {
    pub kind: Kind,
    pub no: usize,
    pub text: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SideRow<'a> {
    /// Removed lines sit beside the added lines that replaced them; either side may be empty.
    Pair {
        left: Option<Cell<'a>>,
        right: Option<Cell<'a>>,
    },
    Fold(Fold),
}

/// Runs of the diff: unchanged, or one change (removed and/or added lines, adjacent).
enum Block {
    Same {
        old: usize,
        new: usize,
        len: usize,
    },
    Change {
        old: Range<usize>,
        new: Range<usize>,
    },
}

/// What a renderer walks through.
enum Item<'a> {
    Same {
        old: usize,
        new: usize,
        text: &'a str,
    },
    Change {
        old: Range<usize>,
        new: Range<usize>,
    },
    Fold(Fold),
}

/// The line diff of two configurations, ready to render either way.
pub struct LineDiff<'a> {
    old: Vec<&'a str>,
    new: Vec<&'a str>,
    blocks: Vec<Block>,
    pub added: usize,
    pub removed: usize,
}

impl<'a> LineDiff<'a> {
    pub fn new(old: &'a str, new: &'a str) -> Self {
        let old: Vec<&str> = old.lines().collect();
        let new: Vec<&str> = new.lines().collect();
        let diff = TextDiff::configure()
            .algorithm(Algorithm::Myers)
            .timeout(DIFF_TIMEOUT)
            .diff_slices(&old, &new);
        let mut blocks: Vec<Block> = Vec::new();
        let (mut added, mut removed) = (0, 0);
        for op in diff.ops() {
            match *op {
                DiffOp::Equal {
                    old_index,
                    new_index,
                    len,
                } => blocks.push(Block::Same {
                    old: old_index,
                    new: new_index,
                    len,
                }),
                _ => {
                    let (o, n) = (op.old_range(), op.new_range());
                    removed += o.len();
                    added += n.len();
                    // Adjacent deletes and inserts are one change, so that side by side the
                    // removed lines stand beside the lines that replaced them.
                    if let Some(Block::Change { old, new }) = blocks.last_mut() {
                        old.end = o.end;
                        new.end = n.end;
                    } else {
                        blocks.push(Block::Change { old: o, new: n });
                    }
                }
            }
        }
        drop(diff);
        Self {
            old,
            new,
            blocks,
            added,
            removed,
        }
    }

    /// Nothing was added or removed.
    pub fn is_empty(&self) -> bool {
        self.added == 0 && self.removed == 0
    }

    pub fn old_lines(&self) -> usize {
        self.old.len()
    }

    pub fn new_lines(&self) -> usize {
        self.new.len()
    }

    /// Every item in order; with `context`, unchanged runs keep that many lines next to a change
    /// and the rest becomes a fold.
    fn walk(&self, context: Option<usize>, mut emit: impl FnMut(Item<'a>)) {
        let last = self.blocks.len().saturating_sub(1);
        for (i, block) in self.blocks.iter().enumerate() {
            match block {
                Block::Change { old, new } => emit(Item::Change {
                    old: old.clone(),
                    new: new.clone(),
                }),
                &Block::Same { old, new, len } => {
                    let (head, tail) = match context {
                        None => (len, 0),
                        Some(c) => (if i > 0 { c } else { 0 }, if i < last { c } else { 0 }),
                    };
                    let folded = head + tail + MIN_FOLD <= len;
                    let (head, tail) = if folded { (head, tail) } else { (len, 0) };
                    for k in 0..head {
                        emit(Item::Same {
                            old: old + k,
                            new: new + k,
                            text: self.old[old + k],
                        });
                    }
                    if folded {
                        let hidden = len - head - tail;
                        emit(Item::Fold(Fold {
                            hidden,
                            old_start: old + head + 1,
                            new_start: new + head + 1,
                        }));
                        for k in len - tail..len {
                            emit(Item::Same {
                                old: old + k,
                                new: new + k,
                                text: self.old[old + k],
                            });
                        }
                    }
                }
            }
        }
    }

    /// Rows of a unified diff: in each change the removed lines, then the added ones.
    pub fn unified(&self, context: Option<usize>) -> Vec<Row<'a>> {
        let mut rows = Vec::new();
        self.walk(context, |item| match item {
            Item::Same { old, new, text } => rows.push(Row::Line(Line {
                kind: Kind::Same,
                old_no: Some(old + 1),
                new_no: Some(new + 1),
                text,
            })),
            Item::Fold(f) => rows.push(Row::Fold(f)),
            Item::Change { old, new } => {
                rows.extend(old.map(|i| {
                    Row::Line(Line {
                        kind: Kind::Removed,
                        old_no: Some(i + 1),
                        new_no: None,
                        text: self.old[i],
                    })
                }));
                rows.extend(new.map(|i| {
                    Row::Line(Line {
                        kind: Kind::Added,
                        old_no: None,
                        new_no: Some(i + 1),
                        text: self.new[i],
                    })
                }));
            }
        });
        rows
    }

    /// Rows of a side-by-side diff: old on the left, new on the right.
    pub fn side_by_side(&self, context: Option<usize>) -> Vec<SideRow<'a>> {
        let mut rows = Vec::new();
        self.walk(context, |item| match item {
            Item::Same { old, new, text } => rows.push(SideRow::Pair {
                left: Some(Cell {
                    kind: Kind::Same,
                    no: old + 1,
                    text,
                }),
                right: Some(Cell {
                    kind: Kind::Same,
                    no: new + 1,
                    text: self.new[new],
                }),
            }),
            Item::Fold(f) => rows.push(SideRow::Fold(f)),
            Item::Change { old, new } => {
                for k in 0..old.len().max(new.len()) {
                    let (o, n) = (old.start + k, new.start + k);
                    rows.push(SideRow::Pair {
                        left: (o < old.end).then(|| Cell {
                            kind: Kind::Removed,
                            no: o + 1,
                            text: self.old[o],
                        }),
                        right: (n < new.end).then(|| Cell {
                            kind: Kind::Added,
                            no: n + 1,
                            text: self.new[n],
                        }),
                    });
                }
            }
        });
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_added_and_removed_lines() {
        assert_eq!(changed_lines("a\nb\nc\n", "a\nb\nc\n"), 0);
        assert_eq!(changed_lines("a\nb\nc\n", "a\nB\nc\n"), 2);
        assert_eq!(changed_lines("a\n", "a\nb\nc\n"), 2);
        assert_eq!(changed_lines("", "a\nb\n"), 2);
    }

    fn numbered(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    /// (sign, old number, new number, text) of each line row; folds as ("~", hidden, 0, "").
    fn flat<'a>(rows: &[Row<'a>]) -> Vec<(&'static str, usize, usize, &'a str)> {
        rows.iter()
            .map(|r| match r {
                Row::Line(l) => (
                    l.kind.sign(),
                    l.old_no.unwrap_or(0),
                    l.new_no.unwrap_or(0),
                    l.text,
                ),
                Row::Fold(f) => ("~", f.hidden, f.old_start, ""),
            })
            .collect()
    }

    #[test]
    fn a_changed_line_is_one_removed_and_one_added_with_folded_context() {
        let old = numbered(100);
        let new = old.replace("line 50\n", "line fifty\n");
        let d = LineDiff::new(&old, &new);
        assert_eq!((d.added, d.removed), (1, 1));
        let rows = d.unified(Some(3));
        assert_eq!(
            flat(&rows),
            vec![
                ("~", 46, 1, ""),
                (" ", 47, 47, "line 47"),
                (" ", 48, 48, "line 48"),
                (" ", 49, 49, "line 49"),
                ("-", 50, 0, "line 50"),
                ("+", 0, 50, "line fifty"),
                (" ", 51, 51, "line 51"),
                (" ", 52, 52, "line 52"),
                (" ", 53, 53, "line 53"),
                ("~", 47, 54, ""),
            ]
        );
        // Without folding, every line is there once.
        assert_eq!(d.unified(None).len(), 101);
    }

    #[test]
    fn numbers_follow_insertions_and_deletions() {
        let old = "a\nb\nc\nd\n";
        let new = "a\nx\ny\nc\nd\ne\n";
        let d = LineDiff::new(old, new);
        assert_eq!((d.added, d.removed), (3, 1));
        assert_eq!(
            flat(&d.unified(None)),
            vec![
                (" ", 1, 1, "a"),
                ("-", 2, 0, "b"),
                ("+", 0, 2, "x"),
                ("+", 0, 3, "y"),
                (" ", 3, 4, "c"),
                (" ", 4, 5, "d"),
                ("+", 0, 6, "e"),
            ]
        );
        let side = d.side_by_side(None);
        assert_eq!(side.len(), 6);
        assert_eq!(
            side[1],
            SideRow::Pair {
                left: Some(Cell {
                    kind: Kind::Removed,
                    no: 2,
                    text: "b"
                }),
                right: Some(Cell {
                    kind: Kind::Added,
                    no: 2,
                    text: "x"
                }),
            }
        );
        assert_eq!(
            side[2],
            SideRow::Pair {
                left: None,
                right: Some(Cell {
                    kind: Kind::Added,
                    no: 3,
                    text: "y"
                }),
            }
        );
    }

    #[test]
    fn identical_texts_fold_to_one_row_and_short_gaps_stay_open() {
        let text = numbered(20);
        let d = LineDiff::new(&text, &text);
        assert!(d.is_empty());
        assert_eq!(flat(&d.unified(Some(3))), vec![("~", 20, 1, "")]);
        // Changes at lines 5 and 13 with 3 lines of context: the 4 lines before the first and
        // the 7 between them would hide a single line each, so they stay open; only the 7 after
        // the last change fold (4 of them).
        let old = numbered(20);
        let new = old
            .replace("line 5\n", "five\n")
            .replace("line 13\n", "thirteen\n");
        let rows = LineDiff::new(&old, &new).unified(Some(3));
        let folds: Vec<_> = flat(&rows).into_iter().filter(|r| r.0 == "~").collect();
        assert_eq!(folds, vec![("~", 4, 17, "")]);
        assert_eq!(rows.len(), 4 + 2 + 7 + 2 + 3 + 1);
    }

    #[test]
    fn empty_sides() {
        let d = LineDiff::new("", "a\nb\n");
        assert_eq!((d.added, d.removed), (2, 0));
        assert_eq!(d.unified(Some(3)).len(), 2);
        let d = LineDiff::new("a\n", "");
        assert_eq!((d.added, d.removed), (0, 1));
        assert!(LineDiff::new("", "").unified(Some(3)).is_empty());
    }
}
