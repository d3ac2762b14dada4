//! The line reading both trace formats share: comments, blank lines, the required header, and
//! strict whole-number fields.

use std::io::{BufRead, Read};

use crate::rtt::TraceError;

/// The longest line a trace may have, in bytes (its line end excluded). A line is read into
/// memory whole, so a file without line ends must not be read without a bound.
pub const MAX_LINE: usize = 64 * 1024;

/// The UTF-8 byte-order mark.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// Calls `row(line_number, line)` for every data line of `reader` after checking that the
/// first non-comment line is `header`. Lines starting with `#` and blank lines are skipped;
/// line numbers count from 1 over the whole file. A byte-order mark at the start of the file is
/// skipped. A line longer than [`MAX_LINE`] bytes is an
/// error; no more than that is read of it.
pub(crate) fn for_each_row(
    mut reader: impl BufRead,
    path: &str,
    header: &'static str,
    mut row: impl FnMut(u64, &str) -> Result<(), TraceError>,
) -> Result<(), TraceError> {
    let mut seen_header = false;
    let mut bytes = Vec::new();
    let mut n = 0u64;
    loop {
        bytes.clear();
        // At most one byte past the limit (and the `\r\n` line end), to tell a long line.
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 3)
            .read_until(b'\n', &mut bytes)
            .map_err(|e| TraceError::Io {
                path: path.to_owned(),
                message: format!("line {}: {e}", n + 1),
            })?;
        if read == 0 {
            break;
        }
        n += 1;
        let content = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        // A byte-order mark some editors write at the start of a UTF-8 file is not content.
        let content = match n {
            1 => content.strip_prefix(BOM).unwrap_or(content),
            _ => content,
        };
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.len() > MAX_LINE {
            return Err(TraceError::LineTooLong {
                path: path.to_owned(),
                line: n,
                max: MAX_LINE,
            });
        }
        let line = std::str::from_utf8(content).map_err(|e| TraceError::Io {
            path: path.to_owned(),
            message: format!("line {n}: not UTF-8: {e}"),
        })?;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !seen_header {
            if line.trim() != header {
                return Err(TraceError::BadHeader {
                    path: path.to_owned(),
                    line: n,
                    expected: header,
                    found: line.to_owned(),
                });
            }
            seen_header = true;
            continue;
        }
        row(n, line)?;
    }
    if seen_header {
        Ok(())
    } else {
        Err(TraceError::MissingHeader {
            path: path.to_owned(),
        })
    }
}

/// A field that must be a whole number (digits only, at most `u64::MAX`).
pub(crate) fn whole_number(
    text: &str,
    path: &str,
    line: u64,
    column: usize,
    field: &'static str,
) -> Result<u64, TraceError> {
    let bad = || TraceError::BadNumber {
        path: path.to_owned(),
        line,
        column,
        field,
        text: text.to_owned(),
    };
    let t = text.trim();
    if t.is_empty() || t.len() > 20 {
        return Err(bad());
    }
    let mut v: u64 = 0;
    for &b in t.as_bytes() {
        if !b.is_ascii_digit() {
            return Err(bad());
        }
        v = match v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) => v,
            None => return Err(bad()),
        };
    }
    Ok(v)
}

/// Splits a data line into exactly `N` comma-separated fields.
pub(crate) fn fields<'a, const N: usize>(
    line: &'a str,
    path: &str,
    n: u64,
) -> Result<[&'a str; N], TraceError> {
    let mut it = line.split(',');
    let parts: [Option<&str>; N] = std::array::from_fn(|_| it.next());
    match (parts.iter().all(Option::is_some), it.next()) {
        (true, None) => Ok(parts.map(|p| p.unwrap_or_default())),
        _ => Err(TraceError::FieldCount {
            path: path.to_owned(),
            line: n,
            expected: N,
            found: line.split(',').count(),
        }),
    }
}
