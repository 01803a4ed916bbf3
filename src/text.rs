//! Small text helpers shared by the result builders.

/// At most `max_chars` characters of `text`, with `…` when cut, so that a
/// runaway value from a host or an argument cannot bloat a result.
pub fn ellipsize(text: &str, max_chars: usize) -> String {
    // `get` rather than indexing: the guest carries no slicing panic path.
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or_default()),
        None => text.to_owned(),
    }
}
