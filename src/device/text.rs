//! Turning what a terminal session printed into plain lines: VT100/ANSI escape sequences removed,
//! carriage returns and backspaces applied the way a terminal would (pagers erase themselves
//! with them), line endings normalised.

/// Plain text of terminal output: one `\n` per line, escape codes gone, `\r` and backspace applied,
/// trailing blanks of each line removed.
pub fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut line: Vec<char> = Vec::with_capacity(128);
    for segment in text.split_inclusive('\n') {
        let (body, ends_line) = match segment.strip_suffix('\n') {
            // `\r\n` (and `\r\r\n`) are plain line ends: the returns move nothing visible.
            Some(body) => (body.trim_end_matches('\r'), true),
            None => (segment, false),
        };
        // Most lines of a configuration are plain text: copy them instead of replaying them
        // character by character.
        if is_plain(body) {
            out.push_str(body.trim_end());
        } else {
            replay(body, &mut out, &mut line);
        }
        if ends_line {
            out.push('\n');
        }
    }
    out
}

/// No control characters except tabs.
fn is_plain(text: &str) -> bool {
    if text.is_ascii() {
        text.bytes().all(|b| (b >= 0x20 && b != 0x7f) || b == b'\t')
    } else {
        text.chars().all(|c| c == '\t' || !c.is_control())
    }
}

/// Replays one line of terminal output (without its `\n`) the way a terminal draws it and appends
/// the visible text; an escape that moves to another row starts a new line.
fn replay(body: &str, out: &mut String, line: &mut Vec<char>) {
    let mut cursor = 0usize;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => cursor = 0,
            '\u{8}' => cursor = cursor.saturating_sub(1),
            '\u{1b}' => {
                if skip_escape(&mut chars) == Escape::LineBreak && !line.is_empty() {
                    flush_line(out, line);
                    out.push('\n');
                    cursor = 0;
                }
            }
            '\t' => put(line, &mut cursor, '\t'),
            c if c.is_control() => {}
            c => put(line, &mut cursor, c),
        }
    }
    flush_line(out, line);
}

fn put(line: &mut Vec<char>, cursor: &mut usize, c: char) {
    if *cursor < line.len() {
        line[*cursor] = c;
    } else {
        line.resize(*cursor, ' ');
        line.push(c);
    }
    *cursor += 1;
}

fn flush_line(out: &mut String, line: &mut Vec<char>) {
    let end = line
        .iter()
        .rposition(|c| !c.is_whitespace())
        .map_or(0, |i| i + 1);
    out.extend(&line[..end]);
    line.clear();
}

#[derive(PartialEq)]
enum Escape {
    Ignore,
    /// Cursor moved to another row or "next line": some devices (HP ProCurve) draw lines this way.
    LineBreak,
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Escape {
    match chars.next() {
        // CSI: parameters, then one final byte in @..~
        Some('[') => {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    return match c {
                        'H' | 'f' | 'E' => Escape::LineBreak,
                        _ => Escape::Ignore,
                    };
                }
            }
            Escape::Ignore
        }
        // OSC: until BEL or ESC \
        Some(']') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' {
                    chars.next_if_eq(&'\\');
                    break;
                }
            }
            Escape::Ignore
        }
        // Character set selection takes one more character.
        Some('(' | ')' | '*' | '+') => {
            chars.next();
            Escape::Ignore
        }
        Some('E') => Escape::LineBreak,
        _ => Escape::Ignore,
    }
}

/// The last line of the output (the text after the last newline), cleaned: where a prompt appears.
pub fn last_line(raw: &[u8]) -> String {
    // The prompt is short; looking only at the tail keeps prompt checks cheap on big outputs.
    let start = raw.len().saturating_sub(512);
    let cleaned = clean(&raw[start..]);
    let line = cleaned.rsplit('\n').next().unwrap_or_default();
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_and_carriage_returns() {
        assert_eq!(clean(b"a\r\nb\rc\n"), "a\nc\n");
        assert_eq!(clean(b"one\r\r\ntwo"), "one\ntwo");
    }

    #[test]
    fn pager_erased_with_backspaces_and_returns() {
        let raw = b"line1\r\n --More-- \x08\x08\x08\x08\x08\x08\x08\x08\x08\x08          \x08\x08\x08\x08\x08\x08\x08\x08\x08\x08line2\r\n";
        assert_eq!(clean(raw), "line1\nline2\n");
        let raw =
            b"line1\r\n-- MORE --, next page: Space\r                              \rline2\r\n";
        assert_eq!(clean(raw), "line1\nline2\n");
    }

    #[test]
    fn ansi_colours_and_cursor_codes() {
        assert_eq!(clean(b"\x1b[1;32mgreen\x1b[0m text"), "green text");
        assert_eq!(clean(b"\x1b[24;1H\x1b[?25h\x1b[24;1HHP-2920# "), "HP-2920#");
        assert_eq!(clean(b"x\x1b]0;title\x07y\x1b(Bz"), "xyz");
        assert_eq!(clean(b"first\x1b[2;1Hsecond"), "first\nsecond");
    }

    #[test]
    fn plain_and_replayed_lines_mix() {
        assert_eq!(clean(b"a  \r\n\tb\r\r\nc\x08d\r\ne"), "a\n\tb\nd\ne");
        assert_eq!(clean("caf\u{e9} \u{85}x\r\n".as_bytes()), "caf\u{e9} x\n");
        assert_eq!(clean(b"\r\n\r\n"), "\n\n");
    }

    #[test]
    fn last_line_is_the_prompt() {
        assert_eq!(last_line(b"output\r\nrouter1#"), "router1#");
        assert_eq!(last_line(b"output\r\n"), "");
    }
}
