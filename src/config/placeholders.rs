//! Placeholders in the arguments of an `exec` notifier's `command` (`"{device}"`).
//!
//! One parser serves both sides: the configuration refuses an argument [`check`] does not
//! accept, and the exec channel fills the arguments in with [`expand`], so what loads is
//! exactly what runs. The syntax is the format-string one: `{name}` is a placeholder, `{{` and
//! `}}` are literal braces, anything else with a brace is an error.

/// Every placeholder an argument may use, by name (written `{name}` in the argument): the
/// incident's kind, device, status (`firing` / `resolved`, `test` for a test message), English
/// summary, severity, provider, incident id, the device's vendor id, the reminder number
/// (`repeat`, 0 for the first message), when the incident opened (RFC 3339) and why a resolved
/// one resolved (`resolution`: `recovered`, `removed`, `superseded`; empty while firing).
pub const PLACEHOLDERS: &[&str] = &[
    "kind",
    "device",
    "status",
    "summary",
    "severity",
    "provider",
    "incident_id",
    "vendor_id",
    "repeat",
    "opened_at",
    "resolution",
];

/// Checks one argument: every `{name}` is in [`PLACEHOLDERS`] and every brace is paired or
/// doubled. The error names the first problem (the caller adds which argument it is in), for
/// the configuration error; it quotes only the placeholder, never the rest of the argument.
pub fn check(arg: &str) -> Result<(), String> {
    let mut unknown = None;
    let walked = walk(arg, &mut |piece| {
        if let Piece::Field(name) = piece
            && unknown.is_none()
            && !PLACEHOLDERS.contains(&name)
        {
            unknown = Some(name.to_owned());
        }
    });
    // The walk stops at a malformed brace, so an unknown name it met came first.
    match unknown {
        Some(name) => Err(format!(
            "unknown placeholder {{{name}}}; known: {} (write `{{{{` and `}}}}` for literal braces)",
            known()
        )),
        None => walked.map_err(|broken| broken.describe(arg)),
    }
}

/// Fills in one argument: each `{name}` becomes `lookup(name)`, `{{` and `}}` become single
/// braces. A name `lookup` answers `None` for, and a malformed rest (both only possible for an
/// argument [`check`] refuses), stay as written. Never fails: the values are data, so nothing
/// in them is interpreted again (no shell, no second expansion).
pub fn expand(arg: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(arg.len());
    let walked = walk(arg, &mut |piece| match piece {
        Piece::Text(text) => out.push_str(text),
        Piece::Field(name) => match lookup(name) {
            Some(value) => out.push_str(&value),
            None => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        },
    });
    if let Err(broken) = walked {
        out.push_str(arg.get(broken.at()..).unwrap_or_default());
    }
    out
}

/// The known placeholders as users write them, for messages.
fn known() -> String {
    let written: Vec<String> = PLACEHOLDERS.iter().map(|p| format!("{{{p}}}")).collect();
    written.join(", ")
}

/// A part of an argument.
enum Piece<'a> {
    /// Text to keep as it is (a doubled brace comes out as one brace).
    Text(&'a str),
    /// The name between `{` and `}`.
    Field(&'a str),
}

/// Why an argument cannot be read; each variant holds the byte offset of the brace.
enum Broken {
    /// A `{` with no `}` before the next `{` or the end.
    Unclosed(usize),
    /// A single `}` with no `{` before it.
    StrayClose(usize),
}

impl Broken {
    /// The byte offset of the offending brace.
    fn at(&self) -> usize {
        match self {
            Broken::Unclosed(at) | Broken::StrayClose(at) => *at,
        }
    }

    /// What is wrong, with the brace's position in characters (from 1).
    fn describe(&self, arg: &str) -> String {
        let column = arg.get(..self.at()).map_or(0, |s| s.chars().count()) + 1;
        match self {
            Broken::Unclosed(_) => format!(
                "unclosed `{{` at character {column}: close the placeholder with `}}`, \
                 or write `{{{{` for a literal brace"
            ),
            Broken::StrayClose(_) => format!(
                "`}}` at character {column} closes no placeholder: write `}}}}` for a literal brace"
            ),
        }
    }
}

/// Splits `arg` into pieces in order, stopping at the first malformed brace.
fn walk<'a>(arg: &'a str, emit: &mut impl FnMut(Piece<'a>)) -> Result<(), Broken> {
    let mut rest = arg;
    while let Some(brace) = rest.find(['{', '}']) {
        let (text, from_brace) = rest.split_at(brace);
        emit(Piece::Text(text));
        let offset = arg.len() - from_brace.len();
        if let Some(after) = from_brace.strip_prefix("{{") {
            emit(Piece::Text("{"));
            rest = after;
        } else if let Some(after) = from_brace.strip_prefix("}}") {
            emit(Piece::Text("}"));
            rest = after;
        } else if let Some(inside) = from_brace.strip_prefix('{') {
            let (name, after) = inside
                .split_once(['{', '}'])
                .filter(|(name, _)| inside.as_bytes().get(name.len()) == Some(&b'}'))
                .ok_or(Broken::Unclosed(offset))?;
            emit(Piece::Field(name));
            rest = after;
        } else {
            return Err(Broken::StrayClose(offset));
        }
    }
    emit(Piece::Text(rest));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(name: &str) -> Option<String> {
        let value = match name {
            "device" => "sales-01",
            "kind" => "manual_login_required",
            "summary" => "needs {a} person",
            "vendor_id" => "",
            _ => return None,
        };
        Some(value.to_owned())
    }

    #[test]
    fn every_known_placeholder_is_accepted() {
        for name in PLACEHOLDERS {
            assert_eq!(check(&format!("--{name}={{{name}}}")), Ok(()), "{name}");
        }
        assert_eq!(check("{kind}:{device}{status}"), Ok(()));
        assert_eq!(check("no placeholders at all"), Ok(()));
        assert_eq!(check(""), Ok(()));
    }

    #[test]
    fn doubled_braces_are_literal() {
        assert_eq!(check("{{\"device\": \"{device}\"}}"), Ok(()));
        assert_eq!(
            expand("{{\"device\": \"{device}\"}}", values),
            "{\"device\": \"sales-01\"}"
        );
        assert_eq!(expand("{{device}}", values), "{device}");
        assert_eq!(check("{{devcie}}"), Ok(()));
    }

    #[test]
    fn unknown_placeholders_are_named_with_the_known_set() {
        let err = check("--who={devcie}").unwrap_err();
        assert_eq!(
            err,
            "unknown placeholder {devcie}; known: {kind}, {device}, {status}, {summary}, \
             {severity}, {provider}, {incident_id}, {vendor_id}, {repeat}, {opened_at}, \
             {resolution} (write `{{` and `}}` for literal braces)"
        );
        assert!(
            check("{}")
                .unwrap_err()
                .starts_with("unknown placeholder {};")
        );
        assert!(
            check("{devcie} {")
                .unwrap_err()
                .starts_with("unknown placeholder {devcie};")
        );
        assert!(
            check("{ {devcie}")
                .unwrap_err()
                .starts_with("unclosed `{` at character 1:")
        );
        assert!(
            check("{device}{Device}")
                .unwrap_err()
                .starts_with("unknown placeholder {Device};")
        );
    }

    #[test]
    fn unpaired_braces_are_located() {
        assert_eq!(
            check("ab{device").unwrap_err(),
            "unclosed `{` at character 3: close the placeholder with `}`, \
             or write `{{` for a literal brace"
        );
        assert!(
            check("{dev{device}")
                .unwrap_err()
                .starts_with("unclosed `{` at character 1:")
        );
        assert_eq!(
            check("设备}").unwrap_err(),
            "`}` at character 3 closes no placeholder: write `}}` for a literal brace"
        );
        assert!(
            check("{device}}")
                .unwrap_err()
                .starts_with("`}` at character 9 ")
        );
    }

    #[test]
    fn expand_fills_in_values_once() {
        assert_eq!(
            expand("{kind}: {device}", values),
            "manual_login_required: sales-01"
        );
        // A value's own braces are data, not placeholders.
        assert_eq!(expand("[{summary}]", values), "[needs {a} person]");
        assert_eq!(expand("id={vendor_id}.", values), "id=.");
        assert_eq!(expand("plain", values), "plain");
        assert_eq!(expand("", values), "");
    }

    #[test]
    fn expand_keeps_what_check_refuses_as_written() {
        assert_eq!(expand("{nope}-{device}", values), "{nope}-sales-01");
        assert_eq!(expand("{device}-{dev", values), "sales-01-{dev");
        assert_eq!(expand("{device}} x", values), "sales-01} x");
        assert_eq!(expand("é{", values), "é{");
    }
}
