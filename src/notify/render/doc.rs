//! A rendered message before it becomes text: a title and blocks, written out as Markdown
//! (the chat bots) or plain text (mail), and fitted into a size limit.
//!
//! Fitting keeps every sentence and fact and shortens the lists (devices, digest lines): it
//! keeps the most items that fit and ends the list with "…及其他 N 台" / "… and N more".
//! Only a message that does not fit with no list items at all is cut, at a character
//! boundary, so a multi-byte character is never split.
//!
//! The Markdown is the subset WeCom, DingTalk and Feishu all show: a `###` heading, `**bold**`
//! labels and `-` lists, blocks separated by a blank line. Every message ends with
//! "— session-keeper".

use super::phrases::{Label, Phrases, Unit};

/// The last line of every message: who sent it (and a keyword a DingTalk or Feishu bot's
/// "custom keywords" security setting can require: every message contains it).
const SIGNATURE: &str = "— session-keeper";

/// What ends a cut text.
const ELLIPSIS: &str = "…";

/// A message: a one-line title and its blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Doc {
    /// The headline (also the mail subject, DingTalk title and Feishu header).
    pub title: String,
    /// The body.
    pub blocks: Vec<Block>,
}

/// One block of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Block {
    /// A sentence.
    Para(String),
    /// Labelled facts, one a line.
    Fields(Vec<(Label, String)>),
    /// One labelled sentence that stands out (what to do now).
    Strong(Label, String),
    /// A headed list that may be shortened to fit.
    List {
        /// The line above the items.
        head: String,
        /// The items, in order.
        items: Vec<String>,
        /// What the items are, for the "N more" line.
        unit: Unit,
    },
}

/// A message as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Written {
    /// The headline.
    pub title: String,
    /// The Markdown body, heading included.
    pub markdown: String,
    /// The plain body, headline included.
    pub plain: String,
}

impl Doc {
    /// The document as text, each body at most `max` bytes: lists keep as many items as fit.
    pub(super) fn fit(&self, phrases: &dyn Phrases, max: usize) -> Written {
        let longest = self.blocks.iter().map(list_len).max().unwrap_or(0);
        let fits = |keep: usize| {
            let written = self.write(phrases, keep);
            (written.markdown.len() <= max && written.plain.len() <= max).then_some(written)
        };
        if let Some(written) = fits(longest) {
            return written;
        }
        // Shorter lists write shorter text (an item costs more than the digit it saves in the
        // "N more" line), so the most items that fit are found by bisection.
        let (mut low, mut high) = (0, longest);
        while low + 1 < high {
            let middle = low + (high - low) / 2;
            if fits(middle).is_some() {
                low = middle;
            } else {
                high = middle;
            }
        }
        match fits(low) {
            Some(written) => written,
            None => {
                let written = self.write(phrases, 0);
                Written {
                    title: written.title,
                    markdown: clip(&written.markdown, max),
                    plain: clip(&written.plain, max),
                }
            }
        }
    }

    /// The document with each list cut to `keep` items.
    fn write(&self, phrases: &dyn Phrases, keep: usize) -> Written {
        let mut markdown = vec![format!("### {}", self.title)];
        let mut plain = vec![self.title.clone()];
        let colon = phrases.colon();
        for block in &self.blocks {
            match block {
                Block::Para(text) => {
                    markdown.push(text.clone());
                    plain.push(text.clone());
                }
                Block::Fields(fields) => {
                    let line = |(label, value): &(Label, String), bold: bool| {
                        let label = phrases.label(*label);
                        if bold {
                            format!("- **{label}**{colon}{value}")
                        } else {
                            format!("{label}{colon}{value}")
                        }
                    };
                    markdown.push(
                        fields
                            .iter()
                            .map(|f| line(f, true))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                    plain.push(
                        fields
                            .iter()
                            .map(|f| line(f, false))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                }
                Block::Strong(label, text) => {
                    let label = phrases.label(*label);
                    markdown.push(format!("**{label}**{colon}{text}"));
                    plain.push(format!("{label}{colon}{text}"));
                }
                Block::List { head, items, unit } => {
                    let mut lines: Vec<String> =
                        items.iter().take(keep).map(|i| format!("- {i}")).collect();
                    if items.len() > keep {
                        lines.push(format!("- {}", phrases.more(items.len() - keep, *unit)));
                    }
                    let lines = lines.join("\n");
                    markdown.push(format!("**{head}**\n{lines}"));
                    plain.push(format!("{head}\n{lines}"));
                }
            }
        }
        markdown.push(SIGNATURE.to_owned());
        plain.push(SIGNATURE.to_owned());
        Written {
            title: self.title.clone(),
            markdown: markdown.join("\n\n"),
            plain: plain.join("\n\n"),
        }
    }
}

/// The number of items of a list block; 0 for others.
fn list_len(block: &Block) -> usize {
    match block {
        Block::List { items, .. } => items.len(),
        _ => 0,
    }
}

/// `text` in at most `max` bytes: whole, or cut at a character boundary and ended with "…".
pub(super) fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let Some(room) = max.checked_sub(ELLIPSIS.len()) else {
        return String::new();
    };
    let mut end = room;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &text[..end])
}
