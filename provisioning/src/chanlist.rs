//! Channel lists as `system.conf` writes them: `N` or `A-B` items, comma separated.
//!
//! Stricter than `dahdi_cfg`: trailing junk (`5abc`), empty items and reversed ranges are errors
//! instead of being read as something else, and a channel listed twice is an error.

/// One item of a list: the channels `first..=last`, found at byte `offset` of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) first: u32,
    pub(crate) last: u32,
    pub(crate) offset: usize,
}

/// A problem at byte `offset` of the list's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// Splits `text` into items, checking only the syntax. Every bad item is reported.
pub(crate) fn parse(text: &str) -> Result<Vec<Item>, Vec<ListError>> {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut offset = 0;
    for raw in text.split(',') {
        let lead = raw.len() - raw.trim_start().len();
        let item = raw.trim();
        let at = offset + lead;
        offset += raw.len() + 1;
        if item.is_empty() {
            errors.push(ListError { offset: at, message: format!("empty item in channel list `{text}`") });
            continue;
        }
        let mut ends = item.splitn(3, '-');
        let a = ends.next().unwrap_or_default().trim();
        let b = ends.next().map(str::trim);
        if ends.next().is_some() {
            errors.push(ListError { offset: at, message: format!("`{item}` is not a channel or a range A-B") });
            continue;
        }
        let num = |s: &str| -> Result<u32, String> {
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(format!("`{s}` in `{item}` is not a channel number"));
            }
            s.parse::<u32>().map_err(|_| format!("channel `{s}` is far too large"))
        };
        let parsed = match b {
            None => num(a).map(|n| (n, n)),
            Some(b) => num(a).and_then(|x| num(b).map(|y| (x, y))),
        };
        match parsed {
            Ok((first, last)) if first <= last => items.push(Item { first, last, offset: at }),
            Ok((first, last)) => errors
                .push(ListError { offset: at, message: format!("range `{first}-{last}` should start before it ends") }),
            Err(message) => errors.push(ListError { offset: at, message }),
        }
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

/// Checks items against the channel range `lo..=hi` and for repeats; returns the sorted channels
/// and every problem (one per bad item).
pub(crate) fn resolve(items: &[Item], lo: u8, hi: u8, what: &str) -> (Vec<u8>, Vec<ListError>) {
    let mut seen = [false; 256];
    let mut errors = Vec::new();
    for it in items {
        if it.first < u32::from(lo) || it.last > u32::from(hi) {
            let bad = if it.first < u32::from(lo) { it.first } else { it.last };
            // On E1, timeslot 0 carries the frame alignment and is never a channel.
            let ts0 = if bad == 0 && hi == 31 { " (TS0 carries the E1 framing)" } else { "" };
            errors.push(ListError {
                offset: it.offset,
                message: format!("channel {bad} is outside {lo}..={hi}, the channels of {what}{ts0}"),
            });
            continue;
        }
        let mut again = Vec::new();
        for c in it.first..=it.last {
            let i = c as usize;
            if seen[i] {
                again.push(c);
            }
            seen[i] = true;
        }
        if !again.is_empty() {
            errors.push(ListError { offset: it.offset, message: format!("{} listed twice", describe(&again)) });
        }
    }
    let chans = (lo..=hi).filter(|c| seen[usize::from(*c)]).collect();
    (chans, errors)
}

/// "channel 5", "channels 5-8", "channels 1, 3-4".
pub(crate) fn describe(chans: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chans.len() {
        let mut j = i;
        while j + 1 < chans.len() && chans[j + 1] == chans[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { chans[i].to_string() } else { format!("{}-{}", chans[i], chans[j]) });
        i = j + 1;
    }
    let plural = chans.len() > 1;
    format!("channel{} {}", if plural { "s" } else { "" }, parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chans(text: &str, lo: u8, hi: u8) -> Result<Vec<u8>, Vec<String>> {
        let items = parse(text)
            .map_err(|e| e.into_iter().map(|e| format!("{}: {}", e.offset, e.message)).collect::<Vec<_>>())?;
        let (c, errs) = resolve(&items, lo, hi, "an E1 span");
        if errs.is_empty() {
            Ok(c)
        } else {
            Err(errs.into_iter().map(|e| format!("{}: {}", e.offset, e.message)).collect())
        }
    }

    #[test]
    fn good_lists() {
        assert_eq!(chans("1-15,17-31", 1, 31).unwrap().len(), 30);
        assert_eq!(chans(" 1 - 2 , 5", 1, 31).unwrap(), vec![1, 2, 5]);
        assert_eq!(chans("3", 1, 31).unwrap(), vec![3]);
    }

    #[test]
    fn bad_syntax_is_reported_per_item() {
        assert_eq!(
            chans("1-2-3,,x,5abc,9-4", 1, 31).unwrap_err(),
            vec![
                "0: `1-2-3` is not a channel or a range A-B",
                "6: empty item in channel list `1-2-3,,x,5abc,9-4`",
                "7: `x` in `x` is not a channel number",
                "9: `5abc` in `5abc` is not a channel number",
                "14: range `9-4` should start before it ends",
            ]
        );
        assert!(chans("", 1, 31).is_err());
        assert!(chans("99999999999", 1, 31).is_err());
    }

    #[test]
    fn range_and_repeats() {
        assert_eq!(
            chans("0-3", 1, 31).unwrap_err(),
            vec!["0: channel 0 is outside 1..=31, the channels of an E1 span (TS0 carries the E1 framing)"]
        );
        assert_eq!(
            chans("1-10,5-8,12,12", 1, 31).unwrap_err(),
            vec!["5: channels 5-8 listed twice", "12: channel 12 listed twice"]
        );
    }
}
