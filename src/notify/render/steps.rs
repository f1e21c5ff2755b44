//! The steps the keeper's ladder records in `detail.steps` (src/keeper/machine/ladder.rs and
//! second_login.rs), read back into their meaning so each language can say them in its own
//! words. A step this build does not know is shown as written.
//!
//! The ladder writes a repeated outcome as `"<step> (N times)"`; [`parse`] splits the count off
//! with the machine's own reader of that spelling.

use crate::keeper::machine::split_times;

/// One step the keeper tried, as the ladder wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    /// `reconnect sent` (the answer had not come yet).
    ReconnectSent,
    /// `reconnect failed`, or `reconnect failed: <error>`.
    ReconnectFailed(Option<&'a str>),
    /// `reconnect: 无需重连 but offline`: the gateway said no reconnect was needed.
    ReconnectNotNeeded,
    /// `second login sent` (the prompt is on the phone, not yet confirmed).
    SecondLoginSent,
    /// `second login not confirmed`: the prompt expired.
    SecondLoginNotConfirmed,
    /// `second login refused: <error>`.
    SecondLoginRefused(&'a str),
    /// `no second login available`: the vendor (or this device) has none.
    NoSecondLogin,
    /// `no second login after offline reason "<text>"`: the reason says a person must act.
    NoSecondLoginAfterReason(String),
    /// `second login disabled`: `second_login_attempts = 0`.
    SecondLoginDisabled,
    /// `second login skipped after N unconfirmed in a row`.
    SecondLoginSkipped(&'a str),
    /// `second login waits for HH:MM`: outside `second_login_hours`.
    SecondLoginWaits(&'a str),
    /// `no automatic recovery on shrise`.
    NoRecoveryOnShrise,
    /// Anything else, shown as written.
    Other(&'a str),
}

/// `step` read back, with how many times in a row it happened.
pub(crate) fn parse(step: &str) -> (Step<'_>, u32) {
    let (text, times) = split_times(step);
    (meaning(text), times)
}

/// The meaning of one step without its count.
fn meaning(text: &str) -> Step<'_> {
    match text {
        "reconnect sent" => return Step::ReconnectSent,
        "reconnect failed" => return Step::ReconnectFailed(None),
        "reconnect: 无需重连 but offline" => return Step::ReconnectNotNeeded,
        "second login sent" => return Step::SecondLoginSent,
        "second login not confirmed" => return Step::SecondLoginNotConfirmed,
        "no second login available" => return Step::NoSecondLogin,
        "second login disabled" => return Step::SecondLoginDisabled,
        "no automatic recovery on shrise" => return Step::NoRecoveryOnShrise,
        _ => {}
    }
    if let Some(error) = text.strip_prefix("reconnect failed: ") {
        Step::ReconnectFailed(Some(error))
    } else if let Some(error) = text.strip_prefix("second login refused: ") {
        Step::SecondLoginRefused(error)
    } else if let Some(quoted) = text.strip_prefix("no second login after offline reason ") {
        Step::NoSecondLoginAfterReason(unquote(quoted))
    } else if let Some(n) = text
        .strip_prefix("second login skipped after ")
        .and_then(|rest| rest.strip_suffix(" unconfirmed in a row"))
    {
        Step::SecondLoginSkipped(n)
    } else if let Some(at) = text.strip_prefix("second login waits for ") {
        Step::SecondLoginWaits(at)
    } else {
        Step::Other(text)
    }
}

/// The text inside the ladder's `{:?}` quotes (a JSON string for everyday text); as written
/// when it is not quoted.
fn unquote(quoted: &str) -> String {
    serde_json::from_str::<String>(quoted).unwrap_or_else(|_| {
        let inner = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"'));
        inner.unwrap_or(quoted).to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_the_ladder_writes_is_read_back() {
        let cases = [
            ("reconnect sent", Step::ReconnectSent, 1),
            ("reconnect failed", Step::ReconnectFailed(None), 1),
            (
                "reconnect failed: timed out (2 times)",
                Step::ReconnectFailed(Some("timed out")),
                2,
            ),
            (
                "reconnect: 无需重连 but offline",
                Step::ReconnectNotNeeded,
                1,
            ),
            ("second login sent", Step::SecondLoginSent, 1),
            (
                "second login not confirmed (3 times)",
                Step::SecondLoginNotConfirmed,
                3,
            ),
            (
                "second login refused: ret 500",
                Step::SecondLoginRefused("ret 500"),
                1,
            ),
            ("no second login available", Step::NoSecondLogin, 1),
            (
                "no second login after offline reason \"账号在其他设备登录\"",
                Step::NoSecondLoginAfterReason("账号在其他设备登录".into()),
                1,
            ),
            ("second login disabled", Step::SecondLoginDisabled, 1),
            (
                "second login skipped after 3 unconfirmed in a row",
                Step::SecondLoginSkipped("3"),
                1,
            ),
            (
                "second login waits for 09:00",
                Step::SecondLoginWaits("09:00"),
                1,
            ),
            (
                "no automatic recovery on shrise",
                Step::NoRecoveryOnShrise,
                1,
            ),
            (
                "something new (x times)",
                Step::Other("something new (x times)"),
                1,
            ),
        ];
        for (text, step, times) in cases {
            assert_eq!(parse(text), (step, times), "{text}");
        }
    }
}
