//! Standard output for the commands: what people read and what pipes carry. A reader that
//! goes away (`session-keeper status | head -1`) ends the output quietly instead of panicking
//! the process (Rust ignores SIGPIPE, so every later write would fail with `EPIPE`); the
//! command still finishes and exits with its own code.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout's reader has gone: nothing more is written.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `args` and a newline to stdout (flushed); does nothing once the reader has gone.
/// Other write errors (a full disk behind a redirect) are reported once on stderr.
pub fn line(args: fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = writeln!(out, "{args}").and_then(|()| out.flush());
    if let Err(e) = written {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != ErrorKind::BrokenPipe {
            eprintln!("session-keeper: cannot write to stdout: {e}");
        }
    }
}

/// True once stdout's reader has gone (or stdout failed).
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// `println!` through [`line`]: `say!("{device} is online")`.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::line(format_args!($($arg)*))
    };
}
