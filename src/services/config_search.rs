//! Search through the latest configuration of every device: a substring or a regular
//! expression, case-sensitive or not, limited to a platform or a tag. Results come grouped by
//! device, each matching line with two lines of context either side.
//!
//! Secrets: a viewer who may not see secrets is searched against the masked text, so a pattern
//! can never confirm a secret value (not even by whether a device matches).
//!
//! Cost: the configurations are read in chunks in host-name order (`backups::latest_configs`),
//! so memory holds a few chunks, never the whole inventory; each chunk is matched on the
//! blocking thread pool while the next one is read, with one chunk in flight per core, so a
//! search of 10,000 configurations neither blocks a web worker nor waits on the database.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use regex::{Regex, RegexBuilder};
use sea_orm::DatabaseConnection;

use super::backups::{self, LatestConfig, LatestFilter};
use super::validation::FieldErrors;
use crate::error::Error;

pub const MAX_QUERY_LEN: usize = 500;
/// Devices listed with their matches; further matching devices are only counted.
pub const MAX_DEVICES: usize = 200;
/// Matching lines shown per device; further ones are only counted.
pub const MAX_LINES_PER_DEVICE: usize = 20;
/// Lines of context shown either side of a matching line.
pub const CONTEXT: usize = 2;
/// Configurations read per statement.
const CHUNK: u64 = 256;
/// A user's pattern compiles to at most this much: enough for any sensible search, and a bound
/// on memory and compile time for a hostile one (matching time is linear in any case).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    pub text: String,
    /// A regular expression rather than a substring.
    pub regex: bool,
    pub case_sensitive: bool,
    pub platform: Option<String>,
    pub tag_id: Option<i32>,
}

impl SearchQuery {
    /// Nothing to search for (an empty or blank field).
    pub fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }
}

/// A part of a matching line, highlighted or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

#[derive(Clone, Debug)]
pub struct HitLine {
    /// 1-based line number.
    pub no: usize,
    /// A matching line (else context).
    pub hit: bool,
    pub segments: Vec<Segment>,
}

/// Consecutive lines: matches whose context overlaps or touches share one.
#[derive(Clone, Debug)]
pub struct Hunk {
    pub lines: Vec<HitLine>,
}

#[derive(Clone, Debug)]
pub struct DeviceHits {
    pub device_id: i32,
    pub hostname: String,
    pub device_type: String,
    pub version: i32,
    /// Every matching line of the configuration.
    pub matching_lines: usize,
    /// The matching lines shown in `hunks` (at most `MAX_LINES_PER_DEVICE`).
    pub shown: usize,
    pub hunks: Vec<Hunk>,
}

impl DeviceHits {
    /// Matching lines not shown.
    pub fn more(&self) -> usize {
        self.matching_lines - self.shown
    }
}

#[derive(Debug, Default)]
pub struct SearchResults {
    /// The first `MAX_DEVICES` matching devices, in host-name order.
    pub devices: Vec<DeviceHits>,
    pub devices_matched: usize,
    pub devices_searched: usize,
    pub lines_matched: usize,
    pub elapsed: Duration,
}

impl SearchResults {
    /// Matching devices not listed.
    pub fn more_devices(&self) -> usize {
        self.devices_matched - self.devices.len()
    }
}

/// The pattern as a regular expression; an invalid one is a message for the query field.
pub fn compile(q: &SearchQuery) -> Result<Regex, Error> {
    if q.text.chars().count() > MAX_QUERY_LEN {
        return Err(FieldErrors::single(
            "q",
            format!("Use at most {MAX_QUERY_LEN} characters."),
        ));
    }
    let pattern = if q.regex {
        q.text.clone()
    } else {
        regex::escape(&q.text)
    };
    RegexBuilder::new(&pattern)
        .case_insensitive(!q.case_sensitive)
        // ^ and $ are the ends of a line, as an engineer reading a configuration expects.
        .multi_line(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let detail = match e {
                regex::Error::CompiledTooBig(_) => "the pattern is too large".to_string(),
                other => other.to_string(),
            };
            FieldErrors::single(
                "q",
                format!("This is not a valid regular expression: {detail}"),
            )
        })
}

/// Searches the latest configuration of every device matching the filters. `reveal`: the
/// viewer may see secrets (see `backups::reveals_secrets`); otherwise the masked text is searched.
pub async fn search(
    db: &DatabaseConnection,
    q: &SearchQuery,
    reveal: bool,
) -> Result<SearchResults, Error> {
    let started = Instant::now();
    let regex = compile(q)?;
    let filter = LatestFilter {
        platform: q.platform.clone(),
        tag_id: q.tag_id,
    };
    let in_flight = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let mut results = SearchResults::default();
    let mut pending: VecDeque<tokio::task::JoinHandle<Chunk>> = VecDeque::new();
    let mut after: Option<String> = None;
    loop {
        let rows = backups::latest_configs(db, &filter, after.as_deref(), CHUNK).await?;
        let last_chunk = (rows.len() as u64) < CHUNK;
        after = rows.last().map(|r| r.hostname.clone());
        if !rows.is_empty() {
            let regex = regex.clone();
            // Once enough devices are listed, later chunks only count: a pattern that matches
            // every configuration would otherwise build context lines for all of them.
            let detail = results.devices.len() < MAX_DEVICES;
            pending.push_back(tokio::task::spawn_blocking(move || {
                scan_chunk(rows, &regex, reveal, detail)
            }));
        }
        // Chunks finish in order, so the first MAX_DEVICES listed are the first by host name.
        while pending.len() >= in_flight || (last_chunk && !pending.is_empty()) {
            let Some(task) = pending.pop_front() else {
                break;
            };
            let chunk = task
                .await
                .map_err(|e| Error::Internal(format!("search task failed: {e}")))?;
            results.devices_searched += chunk.searched;
            for hits in chunk.hits {
                results.devices_matched += 1;
                results.lines_matched += hits.matching_lines;
                if results.devices.len() < MAX_DEVICES {
                    results.devices.push(hits);
                }
            }
        }
        if last_chunk {
            break;
        }
    }
    results.elapsed = started.elapsed();
    Ok(results)
}

struct Chunk {
    searched: usize,
    hits: Vec<DeviceHits>,
}

/// Matches one chunk; with `detail`, the matching lines with their context too.
fn scan_chunk(rows: Vec<LatestConfig>, regex: &Regex, reveal: bool, detail: bool) -> Chunk {
    let searched = rows.len();
    let hits = rows
        .into_iter()
        .filter_map(|row| {
            let text = backups::visible_content(
                &row.device_type,
                &row.content,
                row.secrets_masked,
                reveal,
            );
            let (matching_lines, shown) = matching_lines(&text, regex);
            (matching_lines > 0).then(|| DeviceHits {
                hunks: if detail {
                    hunks(&text, &shown, regex)
                } else {
                    Vec::new()
                },
                shown: shown.len(),
                matching_lines,
                device_id: row.device_id,
                hostname: row.hostname,
                device_type: row.device_type,
                version: row.version,
            })
        })
        .collect();
    Chunk { searched, hits }
}

fn newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

/// How many lines match, and the 0-based numbers of the first `MAX_LINES_PER_DEVICE`. The regex
/// runs over the whole text (one pass, not one call per line); after a match the search goes on
/// at the next line, so a line counts once however often it matches. A match across line ends
/// counts every line it touches.
fn matching_lines(text: &str, regex: &Regex) -> (usize, Vec<usize>) {
    let bytes = text.as_bytes();
    let (mut count, mut shown) = (0, Vec::new());
    let (mut pos, mut line, mut counted_to) = (0, 0, 0);
    // A position at the very end (after the final newline) is not a line.
    while pos < text.len() {
        let Some(m) = regex.find_at(text, pos) else {
            break;
        };
        if m.start() == text.len() && text.ends_with('\n') {
            break;
        }
        line += newlines(&bytes[counted_to..m.start()]);
        let last_byte = if m.end() > m.start() {
            m.end() - 1
        } else {
            m.start()
        };
        let end_line = line + newlines(&bytes[m.start()..last_byte]);
        for l in line..=end_line {
            count += 1;
            if shown.len() < MAX_LINES_PER_DEVICE {
                shown.push(l);
            }
        }
        match bytes[last_byte.min(bytes.len())..]
            .iter()
            .position(|b| *b == b'\n')
        {
            Some(i) => {
                pos = last_byte + i + 1;
                counted_to = pos;
                line = end_line + 1;
            }
            None => break,
        }
    }
    (count, shown)
}

/// The shown matching lines with `CONTEXT` lines either side, merged where they meet.
fn hunks(text: &str, shown: &[usize], regex: &Regex) -> Vec<Hunk> {
    let Some(&last) = shown.last() else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().take(last + CONTEXT + 1).collect();
    let mut out: Vec<Hunk> = Vec::new();
    let mut next_free = 0; // the first line not yet in a hunk
    for &m in shown {
        let from = m.saturating_sub(CONTEXT).max(next_free);
        let to = (m + CONTEXT + 1).min(lines.len());
        let contiguous = next_free > 0 && from == next_free;
        if !contiguous {
            out.push(Hunk { lines: Vec::new() });
        }
        let Some(hunk) = out.last_mut() else {
            continue;
        };
        for (i, text) in lines.iter().enumerate().take(to).skip(from) {
            let hit = shown.binary_search(&i).is_ok();
            hunk.lines.push(HitLine {
                no: i + 1,
                hit,
                segments: if hit {
                    segments(text, regex)
                } else {
                    vec![Segment {
                        text: (*text).to_string(),
                        hit: false,
                    }]
                },
            });
        }
        next_free = next_free.max(to);
    }
    out
}

/// A line cut into highlighted matches and the text between them.
fn segments(line: &str, regex: &Regex) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut at = 0;
    for m in regex.find_iter(line).filter(|m| !m.is_empty()) {
        if m.start() > at {
            out.push(Segment {
                text: line[at..m.start()].to_string(),
                hit: false,
            });
        }
        out.push(Segment {
            text: m.as_str().to_string(),
            hit: true,
        });
        at = m.end();
    }
    if at < line.len() || out.is_empty() {
        out.push(Segment {
            text: line[at..].to_string(),
            hit: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(text: &str, regex: bool, case_sensitive: bool) -> Regex {
        compile(&SearchQuery {
            text: text.into(),
            regex,
            case_sensitive,
            ..Default::default()
        })
        .expect("compiles")
    }

    const CONFIG: &str = "hostname r1\n!\ninterface Gi0/1\n description uplink\n shutdown\n!\ninterface Gi0/2\n description Server\n!\nend\n";

    #[test]
    fn counts_lines_once_and_numbers_them() {
        let (n, shown) = matching_lines(CONFIG, &re("interface", false, false));
        assert_eq!((n, shown), (2, vec![2, 6]));
        // Two matches on one line: one matching line.
        let (n, _) = matching_lines(CONFIG, &re("i", false, true));
        assert_eq!(n, 4);
        let (n, shown) = matching_lines(CONFIG, &re("^ desc.*server$", true, false));
        assert_eq!((n, shown), (1, vec![7]));
        assert_eq!(
            matching_lines(CONFIG, &re("SERVER", false, true)).0,
            0,
            "case-sensitive"
        );
        // A pattern that matches the empty string matches every line once.
        assert_eq!(matching_lines(CONFIG, &re("x*", true, false)).0, 10);
        // Across a line end: both lines.
        assert_eq!(
            matching_lines(CONFIG, &re(r"uplink\n shutdown", true, false)),
            (2, vec![3, 4])
        );
    }

    #[test]
    fn context_merges_and_highlights() {
        let regex = re("description", false, false);
        let (_, shown) = matching_lines(CONFIG, &regex);
        let h = hunks(CONFIG, &shown, &regex);
        assert_eq!(h.len(), 1, "lines 4 and 8 with 2 lines of context touch");
        let numbers: Vec<usize> = h[0].lines.iter().map(|l| l.no).collect();
        assert_eq!(numbers, (2..=10).collect::<Vec<_>>());
        let line4 = &h[0].lines[2];
        assert!(line4.hit);
        assert_eq!(
            line4.segments,
            vec![
                Segment {
                    text: " ".into(),
                    hit: false
                },
                Segment {
                    text: "description".into(),
                    hit: true
                },
                Segment {
                    text: " uplink".into(),
                    hit: false
                },
            ]
        );
        let regex = re("hostname|end", true, false);
        let (_, shown) = matching_lines(CONFIG, &regex);
        assert_eq!(hunks(CONFIG, &shown, &regex).len(), 2);
    }

    #[test]
    fn invalid_regex_is_a_field_message() {
        let err = compile(&SearchQuery {
            text: "interface (".into(),
            regex: true,
            ..Default::default()
        });
        match err {
            Err(Error::Invalid(e)) => assert!(
                e.get("q")
                    .is_some_and(|m| m.contains("not a valid regular expression"))
            ),
            other => panic!("unexpected {other:?}"),
        }
        // The same text as a substring is fine.
        assert!(
            compile(&SearchQuery {
                text: "interface (".into(),
                ..Default::default()
            })
            .is_ok()
        );
    }
}
