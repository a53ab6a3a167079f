//! Turning what a terminal session printed into plain lines: VT100/ANSI escape sequences removed,
//! carriage returns and backspaces applied the way a terminal would (pagers erase themselves
//! with them), line endings normalised.

/// Plain text of terminal output: one `\n` per line, escape codes gone, `\r` and backspace applied,
/// trailing blanks of each line removed.
pub fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut line: Vec<char> = Vec::with_capacity(128);
    let mut cursor = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                flush_line(&mut out, &mut line);
                cursor = 0;
            }
            '\r' => cursor = 0,
            '\u{8}' => cursor = cursor.saturating_sub(1),
            '\u{1b}' => {
                if skip_escape(&mut chars) == Escape::LineBreak && !line.is_empty() {
                    flush_line(&mut out, &mut line);
                    cursor = 0;
                }
            }
            '\t' => put(&mut line, &mut cursor, '\t'),
            c if c.is_control() => {}
            c => put(&mut line, &mut cursor, c),
        }
    }
    if !line.is_empty() {
        let tail: String = line.iter().collect();
        out.push_str(tail.trim_end());
    }
    out
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
    let s: String = line.iter().collect();
    out.push_str(s.trim_end());
    out.push('\n');
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
    fn last_line_is_the_prompt() {
        assert_eq!(last_line(b"output\r\nrouter1#"), "router1#");
        assert_eq!(last_line(b"output\r\n"), "");
    }
}
