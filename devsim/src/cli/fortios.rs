//! FortiOS `config` blocks: `config <path>`, `edit <name>`, `set ...`, `next`, `end`. The lines
//! are collected as `show` prints them and applied (and saved: FortiOS has no separate save)
//! when the outermost block ends; `abort` drops them. `config system console` only sets this
//! session's paging and is never written to the configuration.

use super::{Change, Cli, FortiFrame, Mode, Reply};
use crate::spec::Paging;

const CONSOLE: &str = "system console";

fn is_console(frames: &[FortiFrame]) -> bool {
    matches!(frames.first(), Some(FortiFrame::Config(path)) if path == CONSOLE)
}

impl Cli {
    /// A line opening or inside FortiOS blocks; `frames` are the blocks open before it.
    pub(super) fn forti_line(&mut self, line: &str, mut frames: Vec<FortiFrame>) -> Reply {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["config", path @ ..] if !path.is_empty() => {
                let path = path.join(" ");
                self.forti_write(frames.len(), format!("config {path}"));
                frames.push(FortiFrame::Config(path));
            }
            ["edit", _, ..] => {
                let name = line["edit".len()..].trim().trim_matches('"').to_string();
                // Numbered entries (`config router static`) are shown without quotes.
                let shown = if name.parse::<u32>().is_ok() {
                    name.clone()
                } else {
                    format!("\"{name}\"")
                };
                self.forti_write(frames.len(), format!("edit {shown}"));
                frames.push(FortiFrame::Edit(name));
            }
            ["set" | "append" | "select" | "unselect", _, ..] => {
                if let ["set", "output", value] = words.as_slice()
                    && is_console(&frames)
                {
                    self.forti_output_paged = Some(*value != "standard");
                }
                self.forti_write(frames.len(), words.join(" "));
            }
            // Accepted but not modelled: they leave the collected lines alone.
            [
                "unset" | "delete" | "purge" | "rename" | "move" | "clone" | "get" | "show",
                ..,
            ] => {}
            ["next"] => {
                if let Some(FortiFrame::Edit(_)) = frames.last() {
                    frames.pop();
                    self.forti_write(frames.len(), "next".into());
                }
            }
            ["end"] => {
                let console = is_console(&frames);
                // `end` inside an entry closes the entry too.
                if let Some(FortiFrame::Edit(_)) = frames.last() {
                    frames.pop();
                    self.forti_write(frames.len(), "next".into());
                }
                frames.pop();
                self.forti_write(frames.len(), "end".into());
                if frames.is_empty() {
                    return self.forti_close(console);
                }
            }
            ["abort"] => {
                self.candidate.clear();
                self.forti_output_paged = None;
                self.mode = Mode::Privileged;
                return Reply::text("");
            }
            [first, ..] => {
                return Reply::error(format!(
                    "command parse error before '{first}'\nCommand fail. Return code -61\n"
                ));
            }
        }
        self.mode = Mode::Forti(frames);
        Reply::text("")
    }

    /// Collects one line of the block, indented four spaces per open block as `show` does.
    fn forti_write(&mut self, depth: usize, text: String) {
        self.candidate
            .push(Change::Add(format!("{}{text}", "    ".repeat(depth))));
    }

    /// The outermost block ended: apply and save it, or (console) set the session's paging.
    fn forti_close(&mut self, console: bool) -> Reply {
        self.mode = Mode::Privileged;
        if console {
            self.candidate.clear();
            if let Some(paged) = self.forti_output_paged.take()
                && (paged || self.device.spec.paging == Paging::On)
            {
                self.paging = paged;
            }
        } else {
            self.apply_candidate();
            self.device.count_save();
        }
        Reply::text("")
    }
}
