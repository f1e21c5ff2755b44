//! The one-line fleet summary ("98 online, 1 awaiting confirm, 1 needs login") that
//! `systemctl status` shows as the unit's status and the admin server reports.

/// The state words of DESIGN.md §7 in the order the summary lists them, with the words
/// people read.
const ORDER: [(&str, &str); 8] = [
    ("online", "online"),
    ("suspect", "suspect"),
    ("offline", "offline"),
    ("recovering", "recovering"),
    ("awaiting_confirm", "awaiting confirm"),
    ("login_required", "needs login"),
    ("recycled", "recycled"),
    ("unknown", "unknown"),
];

/// Counts `states` (DESIGN.md §7 state words, one per running device) into one line; states
/// with no device are left out, an empty fleet is "no devices".
pub fn fleet_summary<'a>(states: impl IntoIterator<Item = &'a str>) -> String {
    let mut counts = [0usize; ORDER.len()];
    let mut other = 0usize;
    for state in states {
        match ORDER.iter().position(|(word, _)| *word == state) {
            Some(i) => counts[i] += 1,
            None => other += 1,
        }
    }
    let mut parts: Vec<String> = ORDER
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|((_, label), n)| format!("{n} {label}"))
        .collect();
    if other > 0 {
        parts.push(format!("{other} other"));
    }
    if parts.is_empty() {
        return "no devices".to_owned();
    }
    parts.join(", ")
}
