//! Reading the files a configuration names (the config itself, `*_file` secrets) safely: only
//! regular files, and only up to a size limit, so a path to a FIFO, a device like
//! `/dev/zero` or a huge log cannot hang or exhaust `check-config`.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The largest configuration file accepted (1 MiB; real ones are a few KiB).
pub(crate) const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The largest secret file accepted (64 KiB; tokens and URLs are far shorter).
pub(crate) const MAX_SECRET_BYTES: u64 = 64 << 10;

/// Reads `path` as UTF-8 text if it is a regular file of at most `limit` bytes. The errors
/// say what is wrong in words (`is not a regular file`, `is larger than ...`), for messages
/// that add the path.
pub(crate) fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    // Checked before opening: opening a FIFO for reading blocks until a writer appears.
    regular(&std::fs::metadata(path)?)?;
    let file = File::open(path)?;
    // Checked again on what was opened, in case the path was swapped in between.
    regular(&file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is larger than {}", size(limit)),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

/// `1 MiB`, `64 KiB`: how limits are written in messages.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

fn regular(meta: &std::fs::Metadata) -> io::Result<()> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file (a directory, FIFO or device?)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_small_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(read_text(&path, 3).unwrap(), "abc");
    }

    #[test]
    fn refuses_large_files_and_non_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "abcd").unwrap();
        let err = read_text(&path, 3).unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
        let err = read_text(dir.path(), 3).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let err = read_text(Path::new("/dev/zero"), 3).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        let err = read_text(&path, 3).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
        assert_eq!(size(MAX_CONFIG_BYTES), "1 MiB");
        assert_eq!(size(MAX_SECRET_BYTES), "64 KiB");
    }
}
