//! A rendered message before it becomes text: a title and blocks, written out as Markdown
//! (the chat bots) or plain text (mail), and fitted into a size limit.
//!
//! Fitting keeps every sentence and fact and shortens the lists (devices, digest lines): it
//! keeps the most items that fit and ends the list with "…及其他 N 台" / "… and N more".
//! Only a message that does not fit with no list items at all is cut, at a character
//! boundary, so a multi-byte character is never split, and above its last line, which
//! survives the cut.
//!
//! The Markdown is the subset WeCom, DingTalk and Feishu all show: a `###` heading, `**bold**`
//! labels and `-` lists, blocks separated by a blank line. Every message ends with
//! "— session-keeper".

use super::phrases::{Label, Phrases, Unit};

/// The last line of every message: who sent it (and a keyword a DingTalk or Feishu bot's
/// "custom keywords" security setting can require: every message contains it).
const SIGNATURE: &str = "— session-keeper";

/// What separates blocks.
const SEPARATOR: &str = "\n\n";

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
        fits(low).unwrap_or_else(|| self.cut(phrases, max))
    }

    /// The document with no list items, cut to `max` bytes above its signature: a bot secured
    /// by the keyword "session-keeper" refuses a message without it. Only a `max` too small
    /// for the signature itself cuts the signature too.
    fn cut(&self, phrases: &dyn Phrases, max: usize) -> Written {
        let (markdown, plain) = self.body(phrases, 0);
        let tail = format!("{SEPARATOR}{SIGNATURE}");
        let sign = |body: Vec<String>| {
            let body = body.join(SEPARATOR);
            match max.checked_sub(tail.len()) {
                Some(room) => format!("{}{tail}", clip(&body, room)),
                None => clip(&format!("{body}{tail}"), max),
            }
        };
        Written {
            title: self.title.clone(),
            markdown: sign(markdown),
            plain: sign(plain),
        }
    }

    /// The document with each list cut to `keep` items, signed.
    fn write(&self, phrases: &dyn Phrases, keep: usize) -> Written {
        let (mut markdown, mut plain) = self.body(phrases, keep);
        markdown.push(SIGNATURE.to_owned());
        plain.push(SIGNATURE.to_owned());
        Written {
            title: self.title.clone(),
            markdown: markdown.join(SEPARATOR),
            plain: plain.join(SEPARATOR),
        }
    }

    /// The Markdown and the plain blocks, headline first, each list cut to `keep` items.
    fn body(&self, phrases: &dyn Phrases, keep: usize) -> (Vec<String>, Vec<String>) {
        let mut markdown = vec![format!("### {}", self.title)];
        let mut plain = vec![self.title.clone()];
        for block in &self.blocks {
            let (md, text) = block.write(phrases, keep);
            markdown.push(md);
            plain.push(text);
        }
        (markdown, plain)
    }
}

impl Block {
    /// The block as Markdown and as plain text, a list cut to `keep` items.
    fn write(&self, phrases: &dyn Phrases, keep: usize) -> (String, String) {
        let colon = phrases.colon();
        match self {
            Block::Para(text) => (text.clone(), text.clone()),
            Block::Fields(fields) => {
                let lines = |bold: bool| {
                    let line = |(label, value): &(Label, String)| {
                        let label = phrases.label(*label);
                        if bold {
                            format!("- **{label}**{colon}{value}")
                        } else {
                            format!("{label}{colon}{value}")
                        }
                    };
                    fields.iter().map(line).collect::<Vec<_>>().join("\n")
                };
                (lines(true), lines(false))
            }
            Block::Strong(label, text) => {
                let label = phrases.label(*label);
                (
                    format!("**{label}**{colon}{text}"),
                    format!("{label}{colon}{text}"),
                )
            }
            Block::List { head, items, unit } => {
                let mut lines: Vec<String> =
                    items.iter().take(keep).map(|i| format!("- {i}")).collect();
                if items.len() > keep {
                    lines.push(format!("- {}", phrases.more(items.len() - keep, *unit)));
                }
                let lines = lines.join("\n");
                (format!("**{head}**\n{lines}"), format!("{head}\n{lines}"))
            }
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
